{%- from "hardening/map.jinja" import hardening with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- from "nginx/map.jinja" import nginx with context %}
{%- from "postgres/map.jinja" import postgres with context %}
{%- from "redis/map.jinja" import redis with context %}
{%- from "app/map.jinja" import app with context %}
{%- set fw = hardening.firewall %}
{%- set roles = grains.get('roles', []) %}
{%- set ssh_port = hardening.ssh.port %}
{#- Every rule as (state id, action, sources, port, comment). An empty sources list means from
    anywhere, over IPv4 and IPv6. Ports of the other formulas come from their own settings, so
    moving a port in their pillar moves the rule too. #}
{%- set rules = [] %}
{%- for source in fw.admin_sources %}
{%-   do rules.append(('hardening-firewall-ssh-admin-' ~ loop.index, 'allow', [source], ssh_port,
                       'ssh from an admin network')) %}
{%- endfor %}
{%- if not fw.ssh.only_admin_sources %}
{%-   do rules.append(('hardening-firewall-ssh', 'limit', [], ssh_port,
                       'ssh, rate limited')) %}
{%- endif %}
{%- set ssh_rules = rules | map(attribute=0) | list %}
{#- The minion's connections to its master were opened before the firewall first came up, so
    connection tracking has not seen them start: the master's next packet counts as NEW, no rule
    lets it in, and the minion goes deaf until a keepalive (about a minute). This rule lets the
    master's side of those connections in, to this host's ephemeral ports only. Over salt-ssh
    the master setting is no address, and there is no such connection. #}
{%- set salt_master = fw.salt_master if fw.salt_master is not none else opts.get('master', '') %}
{%- if salt_master is string and salt_master | is_ip %}
{%-   do rules.append(('hardening-firewall-salt-master', 'allow-from-port', [salt_master],
                       opts.get('publish_port', 4505) ~ ':' ~ opts.get('ret_port', 4506),
                       'salt master, its side of the minion connections')) %}
{%- endif %}
{%- if fw.enabled and not ssh_rules %}
{{-   raise('hardening:firewall: no rule allows SSH (admin_sources is empty and '
            'ssh:only_admin_sources is true): enabling the firewall would lock every admin out') }}
{%- endif %}
{%- if 'web' in roles %}
{%-   do rules.append(('hardening-firewall-web-http', 'allow', [], nginx.site.listen_port,
                       'web: http')) %}
{%-   do rules.append(('hardening-firewall-web-https', 'allow', [], nginx.site.tls_port,
                       'web: https')) %}
{%- endif %}
{#- Only other hosts need a rule: a client on this same host connects over loopback. #}
{%- set web_hosts = peers.roles.web.remote %}
{%- if 'app' in roles and web_hosts %}
{%-   do rules.append(('hardening-firewall-app-gunicorn', 'allow', web_hosts, app.gunicorn.port,
                       'app: gunicorn from web hosts')) %}
{%- endif %}
{%- set app_hosts = peers.roles.app.remote %}
{%- if 'db' in roles and app_hosts %}
{%-   do rules.append(('hardening-firewall-db-postgres', 'allow', app_hosts, postgres.port,
                       'db: postgres from app hosts')) %}
{%-   do rules.append(('hardening-firewall-db-pgbouncer', 'allow', app_hosts,
                       postgres.pgbouncer.port, 'db: pgbouncer from app hosts')) %}
{%- endif %}
{%- if 'cache' in roles and app_hosts %}
{%-   do rules.append(('hardening-firewall-cache-redis', 'allow', app_hosts, redis.port,
                       'cache: redis from app hosts')) %}
{%- endif %}
{%- for extra in fw.extra_rules %}
{%-   do rules.append(('hardening-firewall-extra-' ~ loop.index, extra.get('action', 'allow'),
                       extra.get('sources', []), extra.port,
                       extra.get('comment', 'extra rule ' ~ loop.index))) %}
{%- endfor %}

include:
  - validation

{%- if fw.enabled %}

hardening-firewall-package:
  pkg.installed:
    - name: {{ fw.package }}

{#- One state per rule and source. Each requires the one before it: ufw matches rules in the
    order they were added, so the admin networks' unlimited SSH rules stay ahead of the rate
    limited one. #}
{%-   set states = [] %}
{%-   for id, action, sources, port, comment in rules %}
{%-     for source in (sources or ['0.0.0.0/0', '::/0']) %}
{%-       do states.append({'id': id ~ ('-' ~ loop.index if loop.length > 1 else ''),
                            'action': action, 'source': source, 'port': port,
                            'comment': comment}) %}
{%-     endfor %}
{%-   endfor %}
{%-   for rule in states %}

{{ rule.id }}:
  ufw.rule_present:
{%-     if rule.action == 'allow-from-port' %}
    - action: allow
    - proto: tcp
    - sport: '{{ rule.port }}'
    - dport: '{{ fw.ephemeral_ports }}'
{%-     else %}
    - action: {{ rule.action }}
    - proto: tcp
    - dport: '{{ rule.port }}'
{%-     endif %}
    - src: {{ rule.source }}
    {#- Given for IPv6 too: the state compares it with the rule ufw stored. #}
    - dst: {{ '::/0' if ':' in rule.source else '0.0.0.0/0' }}
    - comment: {{ rule.comment | tojson }}
    - require:
      - pkg: hardening-firewall-package
{%-     if not loop.first %}
      - ufw: {{ states[loop.index0 - 1].id }}
{%-     endif %}
    - require_in:
      - ufw: hardening-firewall-enabled
{%-   endfor %}

# Enabled only once every rule is in place, SSH's among them: the requisites (each rule's
# require_in), not the order of this file, guarantee it.
hardening-firewall-enabled:
  ufw.enabled: []

{#-   ufw's policy and logging states refuse to run while ufw is inactive, so in a dry run on a
      host whose firewall is not enabled yet they would fail; there they report what the real
      run will set instead. #}
{%-   set dry_run_before_enable = opts.get('test') and 'Status: active' not in
        salt['cmd.run_stdout']('ufw status', python_shell=False, ignore_retcode=True) %}
{%-   set policies = [('incoming', 'deny'), ('outgoing', 'allow'), ('routed', 'deny')] %}
{%-   if dry_run_before_enable %}

hardening-firewall-settings-pending:
  test.configurable_test_state:
    - changes: True
    - result: True
    - comment: >-
        ufw is not enabled yet; once it is, default policies
        {{ policies | map('join', ' ') | join(', ') }} and logging {{ fw.logging }} would be set
{%-   else %}
{%-     for direction, policy in policies %}

hardening-firewall-default-{{ direction }}:
  ufw.default_policy:
    - policy: {{ policy }}
    - direction: {{ direction }}
    - require:
      - ufw: hardening-firewall-enabled
{%-     endfor %}

hardening-firewall-logging:
  ufw.logging_level:
    - level: {{ fw.logging }}
    - require:
      - ufw: hardening-firewall-enabled
{%-   endif %}
{%- else %}

hardening-firewall-disabled:
  test.show_notification:
    - text: hardening:firewall:enabled is false; ufw is left as it is
{%- endif %}
