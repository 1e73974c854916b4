package ui

import "html/template"

// caseIcons are the pictures on the kiosk's category buttons: simple line
// drawings of our own, inline so the kiosk needs no other files.
var caseIcons = map[string]template.HTML{
	"factory": svgIcon(`<path d="M6 54V30l14 8V30l14 8V30l14 8V14h8v40z"/><path d="M14 46h6M28 46h6M42 46h6"/><path d="M50 14c0-6 6-6 6-10"/>`),
	"shop":    svgIcon(`<path d="M8 24l4-12h40l4 12z"/><path d="M8 24c0 5 8 5 8 0 0 5 8 5 8 0 0 5 8 5 8 0 0 5 8 5 8 0 0 5 8 5 8 0 0 5 8 5 8 0"/><path d="M12 28v26h40V28"/><path d="M26 54V40h12v14"/>`),
	"house":   svgIcon(`<path d="M6 30L32 8l26 22"/><path d="M12 26v28h40V26"/><path d="M26 54V38h12v16"/><path d="M44 16v-6h6v11"/>`),
	"helmet":  svgIcon(`<path d="M8 44c0-14 10-26 24-26s24 12 24 26z"/><path d="M4 44h56v6H4z"/><path d="M28 18v-6h8v6"/><path d="M32 22v14"/>`),
	"letter":  svgIcon(`<path d="M6 16h52v34H6z"/><path d="M6 16l26 20 26-20"/><path d="M6 50l20-16M58 50L38 34"/>`),
	"flag":    svgIcon(`<path d="M14 58V6"/><path d="M14 8h36l-8 10 8 10H14"/><path d="M8 58h14"/>`),
	"people":  svgIcon(`<circle cx="22" cy="20" r="8"/><circle cx="44" cy="22" r="6"/><path d="M6 54c0-12 7-20 16-20s16 8 16 20z"/><path d="M36 36c2-2 5-3 8-3 8 0 14 7 14 17H40"/>`),
	"tree":    svgIcon(`<path d="M32 6L14 30h10L10 46h44L40 30h10z"/><path d="M32 46v12"/><path d="M26 58h12"/>`),
	"heart":   svgIcon(`<path d="M32 54S8 40 8 22c0-8 6-14 13-14 5 0 9 3 11 7 2-4 6-7 11-7 7 0 13 6 13 14 0 18-24 32-24 32z"/><path d="M20 30h8l3-6 4 12 3-6h6"/>`),
	// the ways to tell a problem at the kiosk
	"mic":   svgIcon(`<rect x="24" y="6" width="16" height="30" rx="8"/><path d="M16 30c0 9 7 16 16 16s16-7 16-16"/><path d="M32 46v10M22 58h20"/>`),
	"tap":   svgIcon(`<path d="M26 34V12a4 4 0 0 1 8 0v18"/><path d="M34 28a4 4 0 0 1 8 0v4a4 4 0 0 1 8 0v12c0 8-6 14-14 14h-4c-6 0-10-4-13-9l-6-11a4 4 0 0 1 7-4l4 6"/><path d="M14 14a16 16 0 0 1 32 0"/>`),
	"phone": svgIcon(`<path d="M18 8l8 12-5 6c3 7 9 13 16 16l6-5 12 8-4 10c-22 2-43-19-41-41z"/>`),
	"pen":   svgIcon(`<path d="M44 8l12 12-30 30H14V38z"/><path d="M38 14l12 12"/><path d="M8 58h48"/>`),
	"other": svgIcon(`<circle cx="32" cy="32" r="24"/><path d="M24 24c0-5 4-8 8-8s8 3 8 8c0 6-8 7-8 13"/><path d="M32 44v4"/>`),
}

func svgIcon(body string) template.HTML {
	return template.HTML(`<svg class="caticon" viewBox="0 0 64 64" width="72" height="72" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round">` + body + `</svg>`)
}

func caseIcon(name string) template.HTML {
	if ic, ok := caseIcons[name]; ok {
		return ic
	}
	return caseIcons["other"]
}
