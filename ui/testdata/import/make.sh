#!/usr/bin/env bash
# Remakes the import corpus: gen writes the ledgers and their verdicts;
# LibreOffice (Debian's libreoffice-calc, headless) makes the files other
# programs make from the src/ sheets. The results are committed, so tests
# and CI need neither LibreOffice nor this script.
#   02 .xlsx re-saved by LibreOffice Calc
#   03 .xls (Excel 97–2003) saved by LibreOffice Calc
#   04 .csv UTF-8 exported by LibreOffice Calc, given the byte-order mark
#      Excel's "CSV UTF-8" writes
#   05 .csv GBK (LibreOffice's code 56, as Excel on Chinese Windows saves)
# 01 and 06 are excelize's, as gen writes them. 07 is WPS-shaped, NOT
# WPS-made (no WPS here): gen writes it with excelize and gives it the parts
# real WPS files have (gen/wps.go; the real WPS files the reader is tested
# with are in appliance/testdata/wps, see SOURCES.md there).
set -euo pipefail
cd "$(dirname "$0")"
command -v soffice >/dev/null || { echo "make.sh: needs soffice (apt-get install libreoffice-calc)" >&2; exit 1; }
rm -rf src
go run ./gen .
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lo() { soffice --headless -env:UserInstallation=file://"$tmp"/profile --convert-to "$1" --outdir "$tmp/$2" "$3" >/dev/null; }
lo xlsx xlsx src/02_人口信息采集表.xlsx
lo xls xls src/03_网格员入户登记表.xlsx
lo 'csv:Text - txt - csv (StarCalc):44,34,76' u8 src/04_花名册.xlsx
lo 'csv:Text - txt - csv (StarCalc):44,34,56' gbk src/05_名册GBK.xlsx
cp "$tmp/xlsx/02_人口信息采集表.xlsx" 02_人口信息采集表.xlsx
cp "$tmp/xls/03_网格员入户登记表.xls" 03_网格员入户登记表.xls
{ printf '\xef\xbb\xbf'; cat "$tmp/u8/04_花名册.csv"; } > 04_花名册.csv
cp "$tmp/gbk/05_名册GBK.csv" 05_名册GBK.csv
rm -rf src
echo "made: $(ls *.xlsx *.xls *.csv | tr '\n' ' ')"
