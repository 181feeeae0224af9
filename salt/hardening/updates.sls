{%- from "hardening/map.jinja" import hardening with context %}
{%- from "common/render.jinja" import truefalse %}
{%- set updates = hardening.updates %}

include:
  - validation

{%- if updates.enabled %}

hardening-updates-packages:
  pkg.installed:
    - pkgs: {{ updates.packages | tojson }}

# apt's daily timers refresh the lists and run unattended-upgrade.
hardening-updates-periodic:
  file.managed:
    - name: /etc/apt/apt.conf.d/20auto-upgrades
    - contents: |
        // Managed by Salt (hardening formula).
        APT::Periodic::Update-Package-Lists "1";
        APT::Periodic::Unattended-Upgrade "1";
        APT::Periodic::AutocleanInterval "7";
    - mode: '0644'
    - require:
      - pkg: hardening-updates-packages

# Read after the package's own 50unattended-upgrades, so these settings win.
hardening-updates-policy:
  file.managed:
    - name: /etc/apt/apt.conf.d/52wsp-unattended-upgrades
    - contents: |
        // Managed by Salt (hardening formula): which upgrades install by themselves.
        Unattended-Upgrade::Origins-Pattern {
{%-   for origin in updates.origins %}
                "{{ origin }}";
{%-   endfor %}
        };
        Unattended-Upgrade::Remove-Unused-Dependencies "{{ truefalse(updates.remove_unused_dependencies) }}";
        Unattended-Upgrade::Automatic-Reboot "{{ truefalse(updates.automatic_reboot) }}";
        Unattended-Upgrade::Automatic-Reboot-Time "{{ updates.reboot_time }}";
        Unattended-Upgrade::SyslogEnable "true";
    - mode: '0644'
    - require:
      - pkg: hardening-updates-packages

hardening-updates-timers:
  service.running:
    - names:
      - apt-daily.timer
      - apt-daily-upgrade.timer
    - require:
      - pkg: hardening-updates-packages

hardening-updates-timers-enabled:
  service.enabled:
    - names:
      - apt-daily.timer
      - apt-daily-upgrade.timer
    - require:
      - pkg: hardening-updates-packages
{%- else %}

hardening-updates-off:
  test.show_notification:
    - text: hardening:updates:enabled is false; automatic updates are left as they are
{%- endif %}
