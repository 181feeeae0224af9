# Pillar targeting: shared defaults for every minion, then the settings and secrets of the
# minion's environment grain. A later change moves the secrets to GPG-encrypted pillar.
base:
  '*':
    - defaults.network
    - defaults.nginx
    - defaults.app
    - defaults.postgres
    - defaults.redis
  'G@environment:staging':
    - match: compound
    - staging.settings
    - staging.secrets
  'G@environment:production':
    - match: compound
    - production.settings
