{%- from "hardening/map.jinja" import hardening with context %}
{%- set sudoers = [] %}

include:
  - validation

{%- for group in hardening.ssh.allow_groups %}

hardening-ssh-group-{{ group }}:
  group.present:
    - name: {{ group }}
    - system: True
{%- endfor %}

{%- for name, admin in hardening.admins | dictsort %}
{%-   if admin.get('absent') %}

hardening-admin-{{ name }}:
  user.absent:
    - name: {{ name }}
{%-   else %}
{%-     if admin.get('sudo') %}{% do sudoers.append(name) %}{% endif %}
{%-     set home = admin.get('home', '/home/' ~ name) %}

# Key login only: the account has no usable password ("!" locks it for password logins but
# not for keys), so sudo asks for none.
hardening-admin-{{ name }}:
  user.present:
    - name: {{ name }}
    - shell: {{ admin.get('shell', hardening.admin_shell) }}
    - home: {{ home }}
    - createhome: True
    - password: '!'
    - optional_groups: {{ hardening.ssh.allow_groups | tojson }}
    - remove_groups: False
{%-     if hardening.ssh.allow_groups %}
    - require:
{%-       for group in hardening.ssh.allow_groups %}
      - group: hardening-ssh-group-{{ group }}
{%-       endfor %}
{%-     endif %}

hardening-admin-{{ name }}-home:
  file.directory:
    - name: {{ home }}
    - user: {{ name }}
    - group: {{ name }}
    - mode: '{{ hardening.admin_home_mode }}'
    - require:
      - user: hardening-admin-{{ name }}

# Exactly the keys from pillar: a key removed from pillar is removed from the host.
hardening-admin-{{ name }}-keys:
  file.managed:
    - name: {{ home }}/.ssh/authorized_keys
    - contents: {{ (admin.get('keys', []) | join('\n') ~ '\n') | tojson }}
    - user: {{ name }}
    - group: {{ name }}
    - mode: '0600'
    - dir_mode: '0700'
    - makedirs: True
    - require:
      - user: hardening-admin-{{ name }}
{%-   endif %}
{%- endfor %}

# Checked by visudo before it replaces the live file: a broken sudoers locks every admin out.
hardening-admin-sudoers:
{%- if sudoers %}
  file.managed:
    - name: {{ hardening.sudoers_file }}
    - contents: |
        # Managed by Salt (hardening formula). Admins log in with keys and have no password.
{%-   for name in sudoers %}
        {{ name }} ALL=(ALL:ALL) NOPASSWD: ALL
{%-   endfor %}
    - user: root
    - group: root
    - mode: '0440'
    - check_cmd: /usr/sbin/visudo -c -q -f
{%- else %}
  file.absent:
    - name: {{ hardening.sudoers_file }}
{%- endif %}
