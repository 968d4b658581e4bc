package office

import (
	"fmt"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/cardinfo"
)

// CardFound withdraws a loss report: the holder brings the card back to the
// counter (docs/lifecycle-rules.md §1, "A lost card found"). The card is
// active again, but the certificates the report revoked stay revoked — a
// revocation is never undone — so the office then issues new ones
// (IssueCertificate), with new keys. The chip is not changed here.
func (o *Office) CardFound(id string) error {
	return o.visit(id, func(*visit) error {
		c, err := o.card(id)
		if err != nil {
			return err
		}
		if c.rec.Status != Lost {
			return refuse(RuleCardNotLost, "card %s is %s, not reported lost", id, c.rec.Status)
		}
		c.rec.Status = Active
		o.event(c.rec, "card found: loss report withdrawn; its revoked certificates stay revoked")
		return o.save()
	})
}

// ResetCardInfoPIN re-sets the card-info input support applet's PIN
// (券面事項入力補助用暗証番号, EF 0011 of 券面事項入力補助AP, 4 digits) to a new
// value and restores its tries: like the JPKI PINs, a blocked card-info PIN
// is unlocked only at the office (docs/lifecycle-rules.md §1).
func (o *Office) ResetCardInfoPIN(id, pin string) error {
	return o.visit(id, func(v *visit) error {
		c, err := o.usableCard(id, o.clock.Now())
		if err != nil {
			return err
		}
		if err := cardinfo.FourDigitPIN.Check([]byte(pin)); err != nil {
			return refuse(RulePINFormat, "card-info PIN: %v", err)
		}
		var refused error
		c.Chip.Inspect(func(st *card.State) {
			if df := st.DF(cardinfo.TextAID); df == nil || df.File(cardinfo.EFTextPIN) == nil || df.File(cardinfo.EFTextPIN).PIN == nil {
				refused = fmt.Errorf("card %s has no card-info input support applet PIN", id)
			}
		})
		if refused != nil {
			return refused
		}
		err = v.modify(c, func(st *card.State) error {
			st.DF(cardinfo.TextAID).File(cardinfo.EFTextPIN).PIN.SetPIN(pin)
			return nil
		})
		if err != nil {
			return err
		}
		o.event(c.rec, "card-info PIN re-set at the office")
		return o.save()
	})
}
