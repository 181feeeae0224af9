# Staging (the lab): small sizes.
app:
  gunicorn:
    workers: 2
  systemd:
    memory_max: 256M
redis:
  maxmemory: 64mb
