{%- from "app/map.jinja" import app with context %}

app-os-packages:
  pkg.installed:
    - pkgs: {{ app.os_packages | tojson }}
