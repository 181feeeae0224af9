# Non-secret postgres settings shared by every environment. The password is per environment.
postgres:
  app:
    user: acoustic
    database: acoustic
