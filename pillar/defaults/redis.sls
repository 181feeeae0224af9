# Non-secret redis settings shared by every environment. The password is per environment.
redis:
  maxmemory: 128mb
  maxmemory_policy: allkeys-lru
