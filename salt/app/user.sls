{%- from "app/map.jinja" import app with context %}

app-group:
  group.present:
    - name: {{ app.group }}
    - system: True

app-user:
  user.present:
    - name: {{ app.user }}
    - gid: {{ app.group }}
    - groups: {{ app.extra_groups | tojson }}
    - home: {{ app.home }}
    - createhome: False
    - shell: /usr/sbin/nologin
    - system: True
    - require:
      - group: app-group

# The home holds code and venv; root owns it so the service cannot change its own code.
app-home:
  file.directory:
    - name: {{ app.home }}
    - user: root
    - group: root
    - mode: '0755'
