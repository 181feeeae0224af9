# Limitation: plaintext lab-only secrets; to be replaced by GPG-encrypted pillar.
postgres:
  app:
    password: 'lab-staging-db-Zq7v2'
redis:
  password: 'lab-staging-cache-Hk4p9'
