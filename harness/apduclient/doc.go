// Package apduclient builds command APDUs and takes response APDUs apart on the
// client side, following ISO/IEC 7816-4 clause 5 ("Command-response pairs").
//
// Status words other than 9000 become typed errors: a *WrongPINError for 63Cx
// (it unwraps to a *StatusError) and a *StatusError for every other status
// word, so that callers can write
//
//	errors.Is(err, apduclient.ErrWrongPIN)                   // any 63Cx
//	errors.Is(err, apduclient.ErrSecurityStatusNotSatisfied) // 6982
//	var wp *apduclient.WrongPINError
//	errors.As(err, &wp)                                // wp.TriesLeft
//	sw, ok := apduclient.StatusOf(err)                       // the raw status word
//
// Clause numbers in this tree refer to ISO/IEC 7816-4:2013 (commands in
// clause 11, e.g. 11.1.1 SELECT, 11.2.3 READ BINARY, 11.5.6 VERIFY); the
// clause names are given too, since older editions number them 7.x.
//
// The meanings follow ISO/IEC 7816-4 clause 5.6 ("Status bytes") and the
// card-specific usage collected in docs/card.md §4.6.
//
// This package is the client's view of the protocol and is written
// independently of the simulated card's (simcard/apdu), so that a
// misreading of the standard cannot sit on both sides of an exchange
// (docs/architecture.md).
package apduclient
