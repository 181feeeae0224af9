# Redis as the app's cache, password protected and reachable only from app hosts.
include:
  - validation
  - redis.package
  - redis.config
  - redis.service
