{%- from "monitoring/map.jinja" import monitoring with context %}
{%- set beacon = monitoring.beacon %}
# Health alerts (the wsp_health beacon). Ordered last in a highstate ("order: last"), so alerts
# start once the host's services are in place. The scheduled jobs (highstate, health check,
# maintenance) come from pillar "schedule", which the minion's scheduler reads by itself. Custom
# modules are synced and reloaded first: a changed health or certificate module is the one this
# same run uses, over a minion or over salt-ssh.
include:
  - validation

{%- if opts.get('_ssh_version') %}

# Over salt-ssh the custom modules travel with every run, and there is no minion whose beacons
# could be set: the health checks run when called.
monitoring-modules-synced:
  test.show_notification:
    - text: salt-ssh run; beacons belong to hosts that run a minion
    - order: last
{%- elif opts.get('test') %}

# Limitation: Salt's sync state answers every dry run with "would sync", changed or not; a dry
# run here says nothing about the modules instead, and the real run syncs them.
monitoring-modules-synced:
  test.show_notification:
    - text: dry run; custom modules are synced from the master by the real run
    - order: last
{%- else %}

monitoring-modules-synced:
  saltutil.sync_all:
    - refresh: True
    - reload_modules: True
    - order: last
{%- endif %}

{%- if not opts.get('_ssh_version') %}
{%-   if beacon.enabled %}

monitoring-beacon-health:
  beacon.present:
    - name: wsp_health
    - save: True
    - interval: {{ beacon.interval }}
    - margin: {{ beacon.margin }}
    - certs: {{ beacon.certs and 'web' in grains.get('roles', []) }}
    - order: last
    - require:
      - monitoring-modules-synced
{%-   else %}

monitoring-beacon-health:
  beacon.absent:
    - name: wsp_health
    - save: True
    - order: last
{%-   endif %}
{%- endif %}
