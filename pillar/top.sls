# Pillar targeting. Every minion gets the shared defaults, then the settings of its own
# environment grain. Secrets go only where they are used, by environment and role: the database
# password to db and app hosts, the cache password to cache and app hosts, nothing to web hosts.
# Later files win key by key (see pillar/README.md for the merge rules).
#
# The secrets files are GPG-encrypted (Salt's gpg renderer). In the lab, labkit/secrets.py draws
# them at every 'up' into a pillar root of its own; on a real fleet they are the operator's,
# encrypted to the master's key. A host that needs a missing file fails to render its pillar,
# so nothing runs without its secrets.
base:
  '*':
    - defaults.network
    - defaults.nginx
    - defaults.app
    - defaults.postgres
    - defaults.redis
    - defaults.schedule
  # <env>.local holds a site's own additions and is not in the checkout: the lab writes its
  # private ACME CA there. Optional, hence ignore_missing.
  'G@environment:staging':
    - match: compound
    - ignore_missing: True
    - staging.settings
    - staging.local
  'G@environment:staging and ( G@roles:db or G@roles:app )':
    - match: compound
    - staging.secrets.postgres
  'G@environment:staging and ( G@roles:cache or G@roles:app )':
    - match: compound
    - staging.secrets.redis
  'G@environment:production':
    - match: compound
    - ignore_missing: True
    - production.settings
    - production.local
  'G@environment:production and ( G@roles:db or G@roles:app )':
    - match: compound
    - production.secrets.postgres
  'G@environment:production and ( G@roles:cache or G@roles:app )':
    - match: compound
    - production.secrets.redis
