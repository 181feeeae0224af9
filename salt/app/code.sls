{%- from "app/map.jinja" import app with context %}

include:
  - app.user

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
