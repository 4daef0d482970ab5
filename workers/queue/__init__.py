"""The Celery seam: the app (`app`), sending (`send`), routing by encoder, the thin tasks, queue depth and demand."""
