# Highstate targeting: formulas follow the role grains that each minion carries, never minion IDs,
# so a host changes role by changing its grains, not this file. Listed in dependency order (data
# first, then the app, then the web tier), which is the order Salt applies them on a host that
# plays several roles.
base:
  '*':
    - validation
    - hardening
    # Its states carry "order: last": alerts start once the host's services are in place.
    - monitoring
  'G@roles:db':
    - match: compound
    - postgres
  'G@roles:cache':
    - match: compound
    - redis
  'G@roles:app':
    - match: compound
    - app
  'G@roles:web':
    - match: compound
    - nginx
