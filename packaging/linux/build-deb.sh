#!/usr/bin/env bash
# Build the pharmacy's Debian package from a built bundle (make package): make deb.
# Usage: packaging/linux/build-deb.sh dist/caja-isseg dist
set -euo pipefail
BUNDLE=$(cd "${1:?uso: build-deb.sh CARPETA_DEL_PAQUETE SALIDA}" && pwd)
OUT=$(mkdir -p "${2:?}" && cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)
ARCH=$(dpkg --print-architecture)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

install -d "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/lib/caja-isseg" "$STAGE/usr/share/xsessions" \
    "$STAGE/usr/share/caja-isseg/central" "$STAGE/etc/lightdm/lightdm.conf.d" \
    "$STAGE/lib/udev/rules.d" "$STAGE/DEBIAN"
cp -a "$BUNDLE" "$STAGE/opt/caja-isseg"
ln -s /opt/caja-isseg/isseg-farmacia "$STAGE/usr/bin/isseg-farmacia"
install -m 0755 "$HERE/isseg-kiosko-session" "$STAGE/usr/lib/caja-isseg/"
install -m 0644 "$HERE/isseg-kiosko.desktop" "$STAGE/usr/share/xsessions/"
install -m 0644 "$HERE/openbox-rc.xml" "$STAGE/usr/share/caja-isseg/"
install -m 0644 "$HERE/50-isseg-kiosko.conf" "$STAGE/etc/lightdm/lightdm.conf.d/"
install -m 0644 "$HERE/60-isseg-impresoras.rules" "$STAGE/lib/udev/rules.d/"
install -m 0644 "$ROOT/packaging/central/"* "$STAGE/usr/share/caja-isseg/central/"
install -m 0644 "$ROOT/packaging/README.md" "$STAGE/usr/share/caja-isseg/"
install -m 0755 "$HERE/deb/postinst" "$HERE/deb/postrm" "$STAGE/DEBIAN/"
echo /etc/lightdm/lightdm.conf.d/50-isseg-kiosko.conf > "$STAGE/DEBIAN/conffiles"
SIZE=$(du -sk "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: caja-isseg
Version: $VERSION
Architecture: $ARCH
Maintainer: Sistemas ISSEG <sistemas@isseg.gob.mx>
Installed-Size: $SIZE
Depends: libc6 (>= 2.36), adduser, openbox, x11-xserver-utils
Recommends: lightdm, xserver-xorg
Section: misc
Priority: optional
Description: Caja ISSEG: caja y kiosko de cobro de préstamos ISSEG en farmacias
 Punto de venta y kiosko de autoservicio con su sesión de kiosko (openbox, sin
 protector de pantalla, reinicio tras una falla), usuario dedicado con inicio
 automático, reglas udev para impresoras de tickets USB y el servidor central.
CONTROL
dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$OUT/caja-isseg_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/caja-isseg_${VERSION}_${ARCH}.deb"
