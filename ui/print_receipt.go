package ui

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Printing a case's receipt from the receipt page, at the kiosk without a
// login: the page carries a short-lived signed token naming that one
// receipt, so the button prints only the receipt just created, and only for
// a few minutes. There is no endpoint that prints any receipt by its code.

// tokenReceiptPrint is the token kind of a receipt print permit (never on
// paper: it lives in the receipt page's form).
const tokenReceiptPrint = 'P'

// receiptPrintFor is how long a receipt page can print its receipt.
const receiptPrintFor = 10 * time.Minute

// receiptPrintMax is how many copies one permit prints (a jam, a spare).
const receiptPrintMax = 3

// receiptPrints counts the copies printed per permit until it expires.
var receiptPrints = struct {
	sync.Mutex
	n     map[string]int
	until map[string]int64
}{n: map[string]int{}, until: map[string]int64{}}

// takeReceiptPrint counts one copy for permit, false when it has printed
// receiptPrintMax; it forgets expired permits.
func takeReceiptPrint(permit string, until int64) bool {
	receiptPrints.Lock()
	defer receiptPrints.Unlock()
	now := time.Now().Unix()
	for k, u := range receiptPrints.until {
		if u < now {
			delete(receiptPrints.until, k)
			delete(receiptPrints.n, k)
		}
	}
	if receiptPrints.n[permit] >= receiptPrintMax {
		return false
	}
	receiptPrints.n[permit]++
	receiptPrints.until[permit] = until
	return true
}

func init() {
	registerRoutes(func(s *Server) {
		s.app.Post("/report/receipt/print", s.submitReceiptPrint)
	})
}

// receiptPrintToken returns the permit to print receipt code, or "" when
// the node has no printer for receipts.
func (s *Server) receiptPrintToken(c *fiber.Ctx, code string) string {
	if s.Printing == nil || !s.Printing.PrinterFor(c.UserContext(), "receipt", "").Configured {
		return ""
	}
	signer, err := appliance.NewTokenSigner(s.Store.Secret())
	if err != nil {
		return ""
	}
	until := time.Now().Add(receiptPrintFor).Unix()
	return signer.Sign(tokenReceiptPrint, code+"."+strconv.FormatInt(until, 36))
}

func (s *Server) submitReceiptPrint(c *fiber.Ctx) error {
	bad := func(msg string) error {
		c.Status(fiber.StatusBadRequest) // a missing, used or stale permit: no one's role is at stake
		return s.render(c, "kiosk_receipt_print", fiber.Map{"Title": "打印回执", "Error": msg})
	}
	p, err := s.printing()
	if err != nil {
		return bad("本机没有设置打印机，请用手机拍下回执")
	}
	signer, err := appliance.NewTokenSigner(s.Store.Secret())
	if err != nil {
		return err
	}
	kind, id, err := signer.Verify(c.FormValue("token"))
	code, until, ok := strings.Cut(id, ".")
	exp, perr := strconv.ParseInt(until, 36, 64)
	if err != nil || kind != tokenReceiptPrint || !ok || perr != nil {
		return bad("不能打印这张回执")
	}
	if time.Now().Unix() > exp {
		return bad("回执页面已过期，不能再打印；请用手机拍下回执，或到值班室补打")
	}
	if !takeReceiptPrint(id, exp) {
		return bad("这张回执已经打印过了；如需再打，请到值班室")
	}
	paper := "roll"
	if c.FormValue("paper") == "a5" {
		paper = "a5"
	}
	j, err := p.Print(c.UserContext(), appliance.PrintRequest{Kind: "receipt", Case: code, Paper: paper})
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		c.Status(fiber.StatusConflict)
		return s.render(c, "kiosk_receipt_print", fiber.Map{"Title": "打印回执", "Error": appliance.ErrorMessage(err), "Code": code})
	}
	msg := "回执正在打印，请到打印机取回执。"
	if j.State == "failed" || j.Reason != "" {
		msg = "打印机暂时不能打印（" + j.Reason + "），回执已保存，值班人员会补打。"
	}
	return s.render(c, "kiosk_receipt_print", fiber.Map{"Title": "打印回执", "Message": msg, "Code": code})
}

// printReceiptAtOnce prints a kiosk report's receipt as soon as it is
// registered, when the node has a receipt printer. It reports whether the
// receipt went to the printer, or in plain words why not ("" when the node
// has no printer: the page then asks to photograph the receipt).
func (s *Server) printReceiptAtOnce(c *fiber.Ctx, code string) (bool, string) {
	if s.Printing == nil || !s.Printing.Printer(c.UserContext()).Configured {
		return false, ""
	}
	const later = "请用手机拍下这张回执，或到值班室补打。"
	j, err := s.Printing.Print(c.UserContext(), appliance.PrintRequest{Kind: "receipt", Case: code, Paper: "roll"})
	switch {
	case err != nil:
		s.Log.Warn("receipt at once", "err", err)
		return false, "回执没能打印出来。" + later
	case j.State == "failed" || j.Reason != "":
		return false, "打印机暂时不能打印（" + j.Reason + "）。" + later
	}
	return true, ""
}

// canPrintReceipt says whether the staff case page offers to print the
// case's receipt: a printer for receipts is configured and the user may
// print receipts.
func (s *Server) canPrintReceipt(c *fiber.Ctx) bool {
	u := currentUser(c)
	return s.Printing != nil && u != nil && u.Can(appliance.PermPrint) && u.Can(appliance.PermRegisterCase) &&
		s.Printing.PrinterFor(c.UserContext(), "receipt", "").Configured
}
