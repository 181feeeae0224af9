{%- from "hardening/map.jinja" import hardening with context %}
{%- set ssh = hardening.ssh %}
{%- set rsa_key = '/etc/ssh/ssh_host_rsa_key' %}
{%- set ed25519_key = '/etc/ssh/ssh_host_ed25519_key' %}

include:
  - validation
  - hardening.admins

hardening-ssh-package:
  pkg.installed:
    - name: {{ ssh.package }}

# Host keys: ed25519, and RSA at full strength (a shorter RSA key is replaced). Other kinds are
# removed, since sshd offers only these two.
hardening-ssh-host-key-ed25519:
  cmd.run:
    - name: ssh-keygen -q -t ed25519 -N '' -f {{ ed25519_key }}
    - creates: {{ ed25519_key }}
    - require:
      - pkg: hardening-ssh-package

hardening-ssh-host-key-rsa:
  cmd.run:
    - name: >-
        rm -f {{ rsa_key }} {{ rsa_key }}.pub &&
        ssh-keygen -q -t rsa -b {{ ssh.rsa_bits }} -N '' -f {{ rsa_key }}
    - unless: >-
        test -s {{ rsa_key }} &&
        ssh-keygen -l -f {{ rsa_key }}.pub | awk '{ exit !($1 >= {{ ssh.rsa_bits }}) }'
    - require:
      - pkg: hardening-ssh-package

hardening-ssh-host-keys-other-absent:
  file.absent:
    - names:
      - /etc/ssh/ssh_host_ecdsa_key
      - /etc/ssh/ssh_host_ecdsa_key.pub
      - /etc/ssh/ssh_host_dsa_key
      - /etc/ssh/ssh_host_dsa_key.pub

# Diffie-Hellman group exchange draws its primes from this file: the short ones go.
hardening-ssh-moduli:
  cmd.run:
    - name: >-
        awk '$5 >= {{ ssh.moduli_min_bits }}' /etc/ssh/moduli > /etc/ssh/moduli.salt-new &&
        chmod 0644 /etc/ssh/moduli.salt-new && mv /etc/ssh/moduli.salt-new /etc/ssh/moduli
    - onlyif: >-
        awk '!/^#/ && NF >= 7 && $5 < {{ ssh.moduli_min_bits }} { found = 1 } END { exit !found }'
        /etc/ssh/moduli
    - require:
      - pkg: hardening-ssh-package

# sshd -t needs its privilege separation directory, which exists only while sshd runs.
hardening-ssh-privsep-dir:
  file.directory:
    - name: /run/sshd
    - mode: '0755'

# The whole sshd configuration, checked by sshd itself before it replaces the live one. It does
# not include sshd_config.d: what this file says is what sshd does.
hardening-ssh-config:
  file.managed:
    - name: {{ ssh.config_file }}
    - source: salt://hardening/files/sshd_config.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0600'
    - check_cmd: /usr/sbin/sshd -t -f
    - context:
        ssh: {{ ssh | tojson }}
        host_keys: {{ [ed25519_key, rsa_key] | tojson }}
    - require:
      - cmd: hardening-ssh-host-key-ed25519
      - cmd: hardening-ssh-host-key-rsa
      - file: hardening-ssh-privsep-dir
      - file: hardening-banner-ssh
{%- for group in ssh.allow_groups %}
      - group: hardening-ssh-group-{{ group }}
{%- endfor %}

hardening-banner-ssh:
  file.managed:
    - name: /etc/issue.net
    - contents: {{ hardening.banner | tojson }}
    - mode: '0644'

# Reloaded, not restarted, and only when a checked file changed: open sessions survive.
hardening-ssh-service:
  service.running:
    - name: {{ ssh.service }}
    - reload: True
    - require:
      - file: hardening-ssh-config
    - watch:
      - file: hardening-ssh-config
      - cmd: hardening-ssh-host-key-rsa
      - cmd: hardening-ssh-moduli

hardening-ssh-service-enabled:
  service.enabled:
    - name: {{ ssh.service }}
    - require:
      - pkg: hardening-ssh-package
