# firstboot's %preun: on removal (not an upgrade), disable the unit. Nothing firstboot
# made at run time is removed: /etc/firstboot, /var/lib/firstboot, /var/log/firstboot
# and what the modules configured stay (docs/operations.md, "Uninstall").
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl --no-reload disable firstboot.service >/dev/null 2>&1 || :
fi
