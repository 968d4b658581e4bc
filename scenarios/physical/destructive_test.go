package physical_test

import (
	"crypto"
	"crypto/sha256"
	"errors"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
)

// other returns a PIN of the same format as p that differs from it in the
// last character (a digit counts up, a letter moves on), step places on.
func other(p jpkiclient.PIN, step int) jpkiclient.PIN {
	b := []byte(p)
	if len(b) == 0 {
		return p
	}
	last := &b[len(b)-1]
	switch {
	case *last >= '0' && *last <= '9':
		*last = '0' + byte((int(*last-'0')+step)%10)
	case *last >= 'A' && *last <= 'Z':
		*last = 'A' + byte((int(*last-'A')+step)%26)
	}
	return jpkiclient.PIN(b)
}

// keyOf is the private key a PIN guards.
func keyOf(ref jpkiclient.PINRef) jpkiclient.Key {
	if ref == jpkiclient.SignPIN {
		return jpkiclient.SignKey
	}
	return jpkiclient.AuthKey
}

// needs skips with the guard's reason when the run was not given ref.
func needs(s *session, ref jpkiclient.PINRef) {
	if s.pin(ref) == "" {
		Skip("needs the " + ref.String() + ": set MYNAHIL_" + map[jpkiclient.PINRef]string{jpkiclient.AuthPIN: "AUTH", jpkiclient.SignPIN: "SIGN"}[ref] + "_PIN")
	}
}

// On a physical card these run only with the destructive opt-in, the card's
// fingerprint and --label-filter=destructive (after every other spec).
// Each PIN's three steps run in order: a change that is set back, a
// lockout, and the office's re-set after which the card is checked again.
var _ = Describe("A PIN's hard times", speclabel.Of(speclabel.Destructive), func() {
	for _, ref := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
		needsPIN := speclabel.Of(speclabel.NeedsAuthPIN)
		if ref == jpkiclient.SignPIN {
			needsPIN = speclabel.Of(speclabel.NeedsSignPIN)
		}
		Context("the "+ref.String(), Ordered, func() {
			var blocked bool
			BeforeAll(func() {
				// Registered before the lockout: a PIN the spec after it did
				// not get re-set is re-set at the counter all the same.
				DeferCleanup(func() {
					if blocked {
						By("having the office re-set the " + ref.String())
						Expect(tgt.Office(ref)).To(Succeed())
						blocked = false
					}
				})
			})

			It("is changed by its holder and set back before the spec ends", needsPIN, func() {
				s := open()
				old, next := s.pin(ref), other(s.pin(ref), 2)
				Expect(s.c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()), "a PIN goes to the card only when it shows every try")
				// Registered before the change; it follows the card's
				// answer, so a change the card took is always undone, and
				// the original PIN is proved to work with every try left.
				current := old
				DeferCleanup(func() {
					By("setting the " + ref.String() + " back")
					Expect(harness.Reset(s.t)).To(Succeed())
					Expect(s.c.SelectAP()).To(Succeed())
					if current != old {
						Expect(s.c.ChangePIN(ref, current, old)).To(Succeed())
					}
					Expect(s.c.VerifyPIN(ref, old)).To(Succeed())
					Expect(s.c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
				})
				err := s.c.ChangePIN(ref, old, next)
				// A status word means the card refused and kept the old PIN;
				// anything else (the reader failed mid-command) may have
				// changed it, so the set-back tries the new one.
				var refused *apduclient.StatusError
				if err == nil || !errors.As(err, &refused) {
					current = next
				}
				Expect(err).NotTo(HaveOccurred())
				Expect(harness.Reset(s.t)).To(Succeed())
				Expect(s.c.SelectAP()).To(Succeed())
				Expect(s.c.VerifyPIN(ref, old)).To(BeWrongPIN())
				Expect(s.c.VerifyPIN(ref, next)).To(Succeed())
			})

			// Interactive: only the office undoes a lockout, so without an
			// operator it does not run on a physical card.
			It("counts down, blocks on the last try and stays blocked", needsPIN, speclabel.Of(speclabel.Interactive), func() {
				s := open()
				right, wrong := s.pin(ref), other(s.pin(ref), 1)
				max := ref.MaxTries()
				Expect(s.c.TriesLeft(ref)).To(HaveTriesLeft(max))
				By("a wrong PIN costs one try, the right one (as given to the run) restores them")
				Expect(s.c.VerifyPIN(ref, wrong)).To(HaveTriesLeft(max - 1))
				Expect(s.c.VerifyPIN(ref, right)).To(Succeed())
				Expect(s.c.TriesLeft(ref)).To(HaveTriesLeft(max))
				By("counting down to 63C0 on the last try")
				for left := max - 1; left >= 1; left-- {
					Expect(s.c.VerifyPIN(ref, wrong)).To(HaveTriesLeft(left))
				}
				blocked = true
				Expect(s.c.VerifyPIN(ref, wrong)).To(HaveStatusWord(0x63C0))
				err := s.c.VerifyPIN(ref, right)
				Expect(err).To(HaveStatusWord(0x6984))
				Expect(err).To(MatchError(apduclient.ErrPINBlocked))
				digest := sha256.Sum256([]byte("x"))
				_, err = s.c.Sign(keyOf(ref), digest[:], crypto.SHA256)
				Expect(err).To(HaveStatusWord(0x6982))
			})

			It("is re-set by the office, after which the card works again", speclabel.Of(speclabel.Interactive), func() {
				s := open()
				needs(s, ref)
				if n, err := s.c.TriesLeft(ref); !blocked && err == nil && n > 0 {
					Skip("no lockout to undo: the lockout before it did not run")
				}
				By("asking " + tgt.Operator().String() + " to have the office re-set the " + ref.String())
				Expect(tgt.Office(ref)).To(Succeed())
				blocked = false

				By("checking the card again")
				s = open()
				Expect(s.c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
				Expect(s.c.VerifyPIN(ref, s.pin(ref))).To(Succeed())
				digest := sha256.Sum256([]byte("back from the office"))
				_, err := s.c.Sign(keyOf(ref), digest[:], crypto.SHA256)
				Expect(err).NotTo(HaveOccurred())
			})
		})
	}
})
