"""The Celery seam: names (`names`, a leaf), the app and `FleetApp` (`app`), sending (`send`), routing by encoder
(`routing`), the embedded broker's processed files pruned (`processed`); above the delivery layer, the thin tasks
(`tasks`), remote control (`control`), queue depth (`depth`), demand (`demand`) and drain (`drain`)."""
