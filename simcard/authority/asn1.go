package authority

import (
	"crypto/x509/pkix"
	"encoding/asn1"
)

// Object identifiers of the JPKI certificate profile (docs/card.md §6).
var (
	oidCountry       = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrganization  = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit       = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidLocality      = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidCommonName    = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSubjectAltNam = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidIssuerAltName = asn1.ObjectIdentifier{2, 5, 29, 18}
	oidCRLDistPoints = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidCertPolicies  = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidQualifierCPS  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}
	oidQualifierUN   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 2}

	// OIDJPKIAttr is the arc of the four facts in the signing certificate's
	// subjectAltName otherNames: .1 name, .2 name substitutes, .3 sex,
	// .4 birth date, .5 address, .6 address substitutes.
	OIDJPKIAttr = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5}

	// Policies of the test hierarchy. The signing one is the JPKI test
	// policy (1.2.392.200149.8.5.1.0.20, ZKM citing J-LIS profile 3.2); the
	// authentication one mirrors the production 1.2.392.200149.8.5.1.3.30
	// in the same test arc [inf], so no simulator certificate carries a
	// production policy.
	OIDSignPolicy = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 1, 0, 20}
	OIDAuthPolicy = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 1, 0, 30}
)

// attr is one RDN attribute; utf8 selects UTF8String over PrintableString,
// as the real profile writes O and OU (docs/card.md §6).
type attr struct {
	oid   asn1.ObjectIdentifier
	value string
	utf8  bool
}

func rawString(s string, utf8 bool) asn1.RawValue {
	tag := asn1.TagPrintableString
	if utf8 {
		tag = asn1.TagUTF8String
	}
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(s)}
}

// name encodes a distinguished name with one attribute per RDN.
func name(attrs ...attr) []byte {
	var seq pkix.RDNSequence
	for _, a := range attrs {
		seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: a.oid, Value: rawString(a.value, a.utf8)}})
	}
	b, err := asn1.Marshal(seq)
	if err != nil {
		panic("encoding a fixed-shape name cannot fail: " + err.Error())
	}
	return b
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic("encoding a fixed-shape extension cannot fail: " + err.Error())
	}
	return b
}

// dirName is GeneralName directoryName [4] EXPLICIT Name.
func dirName(nameDER []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: nameDER}
}

// otherName is GeneralName otherName [0] { type-id, [0] EXPLICIT UTF8String }.
func otherName(oid asn1.ObjectIdentifier, value string) asn1.RawValue {
	inner := mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: mustMarshal(rawString(value, true))})
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true,
		Bytes: append(mustMarshal(oid), inner...)}
}

func generalNames(names ...asn1.RawValue) []byte { return mustMarshal(names) }

// jpkiServiceName is the DirName C=JP, O=公的個人認証サービス used in the
// subjectAltName of the CAs and the issuerAltName of end entities.
var jpkiServiceName = name(attr{oidCountry, "JP", false}, attr{oidOrganization, "公的個人認証サービス", true})

func altNameExt(oid asn1.ObjectIdentifier, names ...asn1.RawValue) pkix.Extension {
	return pkix.Extension{Id: oid, Value: generalNames(names...)}
}

// crlDistributionPoint names the CA's own DN, no URL (docs/card.md §6):
// SEQUENCE { DistributionPoint { [0] fullName [0] { directoryName } } }.
func crlDistributionPoint(caName []byte) pkix.Extension {
	full := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustMarshal(dirName(caName))}
	dpName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: mustMarshal(full)}
	dp := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: mustMarshal(dpName)}
	return pkix.Extension{Id: oidCRLDistPoints, Value: mustMarshal([]asn1.RawValue{dp})}
}

// certificatePolicy is the critical certificatePolicies extension with one
// policy, its CPS qualifier and, when notice is not empty, a userNotice
// qualifier whose explicitText (UTF8String, RFC 5280 4.2.1.4) says what the
// certificate is (docs/card.md §6).
func certificatePolicy(policy asn1.ObjectIdentifier, cps, notice string) pkix.Extension {
	qualifiers := []asn1.RawValue{rawSeq(mustMarshal(oidQualifierCPS), mustMarshal(asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte(cps)}))}
	if notice != "" {
		un := rawSeq(mustMarshal(rawString(notice, true)))
		qualifiers = append(qualifiers, rawSeq(mustMarshal(oidQualifierUN), mustMarshal(un)))
	}
	var qs []byte
	for _, q := range qualifiers {
		qs = append(qs, mustMarshal(q)...)
	}
	info := rawSeq(mustMarshal(policy), mustMarshal(rawSeq(qs)))
	return pkix.Extension{Id: oidCertPolicies, Critical: true, Value: mustMarshal(rawSeq(mustMarshal(info)))}
}

// rawSeq is a SEQUENCE of already encoded elements.
func rawSeq(elems ...[]byte) asn1.RawValue {
	var b []byte
	for _, e := range elems {
		b = append(b, e...)
	}
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: b}
}
