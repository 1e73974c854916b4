package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

var dispimg = regexp.MustCompile(`<c r="([A-Z]+\d+)"( s="\d+")?(?: t="\w+")?><f>_xlfn\.DISPIMG\(([^<]*)\)</f>(?:<v>[^<]*</v>)?</c>`)

// wpsShape gives an excelize-written book the parts WPS 表格 writes, as
// seen in real WPS files: app.xml naming WPS 表格 with its sheet list, a
// custom.xml with WPS's ICV and KSOProductBuildVer properties (and its
// content type and relationship), WPS's namespace on the worksheets,
// WPS's redefinitions of the built-in accounting formats 41–44, shared
// strings without uniqueCount (as WPS 9 and 10 write them), and cell
// pictures' DISPIMG formulas with the saved value WPS gives them.
func wpsShape(path string, sheets []string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	var titles strings.Builder
	for _, s := range sheets {
		fmt.Fprintf(&titles, "<vt:lpstr>%s</vt:lpstr>", s)
	}
	const custom = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
	parts := map[string]func(string) string{
		"docProps/app.xml": func(string) string {
			return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
				`<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>WPS 表格</Application>` +
				fmt.Sprintf(`<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>工作表</vt:lpstr></vt:variant><vt:variant><vt:i4>%d</vt:i4></vt:variant></vt:vector></HeadingPairs>`, len(sheets)) +
				fmt.Sprintf(`<TitlesOfParts><vt:vector size="%d" baseType="lpstr">%s</vt:vector></TitlesOfParts></Properties>`, len(sheets), titles.String())
		},
		"[Content_Types].xml": func(x string) string {
			return strings.Replace(x, "</Types>", `<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>`, 1)
		},
		"_rels/.rels": func(x string) string {
			return strings.Replace(x, "</Relationships>", `<Relationship Id="rIdKSO" Type="`+custom[:len(custom)-len("custom-properties")]+`relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>`, 1)
		},
		"xl/styles.xml": func(x string) string {
			acct := `<numFmt numFmtId="43" formatCode="_ * #,##0.00_ ;_ * \-#,##0.00_ ;_ * &quot;-&quot;??_ ;_ @_ "/><numFmt numFmtId="42" formatCode="_ &quot;￥&quot;* #,##0_ ;_ &quot;￥&quot;* \-#,##0_ ;_ &quot;￥&quot;* &quot;-&quot;_ ;_ @_ "/><numFmt numFmtId="44" formatCode="_ &quot;￥&quot;* #,##0.00_ ;_ &quot;￥&quot;* \-#,##0.00_ ;_ &quot;￥&quot;* &quot;-&quot;??_ ;_ @_ "/><numFmt numFmtId="41" formatCode="_ * #,##0_ ;_ * \-#,##0_ ;_ * &quot;-&quot;_ ;_ @_ "/>`
			re := regexp.MustCompile(`<numFmts count="(\d+)">`)
			return re.ReplaceAllStringFunc(x, func(m string) string {
				var n int
				fmt.Sscanf(re.FindStringSubmatch(m)[1], "%d", &n)
				return fmt.Sprintf(`<numFmts count="%d">%s`, n+4, acct)
			})
		},
		"xl/sharedStrings.xml": func(x string) string {
			return regexp.MustCompile(` uniqueCount="\d+"`).ReplaceAllString(x, "")
		},
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		x := string(b)
		if fix, ok := parts[f.Name]; ok {
			x = fix(x)
		}
		if strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			x = strings.Replace(x, "<worksheet ", `<worksheet xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData" `, 1)
			// A picture in a cell: WPS saves the formula's own text as its value.
			x = dispimg.ReplaceAllString(x, `<c r="$1"$2 t="str"><f>_xlfn.DISPIMG($3)</f><v>=DISPIMG($3)</v></c>`)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			return err
		}
		io.WriteString(w, x)
	}
	w, err := zw.Create("docProps/custom.xml")
	if err != nil {
		return err
	}
	// The ICV is a fixed made-up value: the file must come out the same
	// on every run.
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Properties xmlns="`+custom+`" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">`+
		`<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="ICV"><vt:lpwstr>00000000000000000000000000000000</vt:lpwstr></property>`+
		`<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="KSOProductBuildVer"><vt:lpwstr>2052-11.1.0.11365</vt:lpwstr></property></Properties>`)
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}
