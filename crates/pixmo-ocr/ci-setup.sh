#!/bin/sh
# Installs what pixmo-ocr's tests need when it is missing: Debian's tesseract and its English
# language data (packages `tesseract-ocr`, `tesseract-ocr-eng`). Run as root or with sudo
# available; does nothing when both are already installed.
#
#   crates/pixmo-ocr/ci-setup.sh
set -eu

have_eng() {
    command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx eng
}

if have_eng; then
    echo "pixmo-ocr: $(tesseract --version 2>&1 | head -n 1) with eng already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng

if ! have_eng; then
    echo "pixmo-ocr: tesseract or its eng data is still missing after apt-get install" >&2
    exit 1
fi
echo "pixmo-ocr: installed $(tesseract --version 2>&1 | head -n 1) with eng"
