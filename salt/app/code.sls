{%- from "app/map.jinja" import app with context %}
{%- set git = app.git %}

include:
  - app.user

{%- if git.repo %}
{%-   set key_file = app.config_dir ~ '/deploy-key' %}

app-git-package:
  pkg.installed:
    - name: git

{%-   if git.deploy_key %}

# The deploy key is read from pillar on the minion (contents_pillar), so the key itself is in no
# state argument, job return or log.
app-deploy-key:
  file.managed:
    - name: {{ key_file }}
    - contents_pillar: app:git:deploy_key
    - user: root
    - group: root
    - mode: '0600'
    - makedirs: True
    - show_changes: False
{%-   endif %}

# Root-owned and world-readable: the service reads its code but cannot rewrite it. A new commit
# on the branch is checked out in place; gunicorn's reload then starts workers on it.
# Limitation: for an ssh:// repository the server's host key must already be known to root
# (Salt's ssh_known_hosts state); this state does not trust it on first use.
app-code:
  git.latest:
    - name: {{ git.repo }}
    - rev: {{ git.rev }}
    - branch: {{ git.rev }}
    - target: {{ app.code_dir }}
    - user: root
    - force_reset: True
    - force_clone: True
{%-   if git.deploy_key %}
    - identity: {{ key_file }}
{%-   endif %}
    - require:
      - file: app-home
      - pkg: app-git-package
{%-   if git.deploy_key %}
      - file: app-deploy-key
{%-   endif %}
{%- else %}

# Root-owned and world-readable: the service reads its code but cannot rewrite it.
app-code:
  file.recurse:
    - name: {{ app.code_dir }}
    - source: {{ app.source }}
    - user: root
    - group: root
    - dir_mode: '0755'
    - file_mode: '0644'
    - clean: True
    - exclude_pat: 'E@(__pycache__|\.pyc$)'
    - require:
      - file: app-home
{%- endif %}
