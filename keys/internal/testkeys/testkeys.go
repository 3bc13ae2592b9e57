// Package testkeys makes deterministic SSH public keys for tests.
//
// NEVER use these keys, or anything derived from them, in production: every
// key comes from a seed in this file, so its private half is known to anyone
// who reads it, and the RSA keys are not even products of two primes. They
// exist so that tests are repeatable and fast.
package testkeys

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"math/big"
	"math/rand/v2"

	"golang.org/x/crypto/ssh"
)

// seed returns n bytes derived from a label and an index.
func seed(label string, i, n int) []byte {
	var out []byte
	for c := 0; len(out) < n; c++ {
		sum := sha512.Sum512(fmt.Appendf(nil, "gitserver testkeys %s %d %d", label, i, c))
		out = append(out, sum[:]...)
	}
	return out[:n]
}

func must(pk ssh.PublicKey, err error) ssh.PublicKey {
	if err != nil {
		panic("testkeys: " + err.Error())
	}
	return pk
}

// Ed25519Signer returns the i-th test ed25519 key pair as a signer.
func Ed25519Signer(i int) ssh.Signer {
	s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed("ed25519", i, ed25519.SeedSize)))
	if err != nil {
		panic("testkeys: " + err.Error())
	}
	return s
}

// Ed25519 returns the i-th test ed25519 public key.
func Ed25519(i int) ssh.PublicKey { return Ed25519Signer(i).PublicKey() }

// ECDSA returns the i-th test ECDSA public key on curve, which is 256, 384
// or 521.
func ECDSA(curve, i int) ssh.PublicKey {
	var c ecdh.Curve
	var ec elliptic.Curve
	switch curve {
	case 256:
		c, ec = ecdh.P256(), elliptic.P256()
	case 384:
		c, ec = ecdh.P384(), elliptic.P384()
	case 521:
		c, ec = ecdh.P521(), elliptic.P521()
	default:
		panic("testkeys: no curve P-" + fmt.Sprint(curve))
	}
	b := seed("ecdsa", i, (curve+7)/8)
	b[0] = 0 // below the group order
	priv, err := c.NewPrivateKey(b)
	if err != nil {
		panic("testkeys: " + err.Error())
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(ec, priv.PublicKey().Bytes())
	if err != nil {
		panic("testkeys: " + err.Error())
	}
	return must(ssh.NewPublicKey(pub))
}

// RSA returns the i-th test RSA public key of the given size. Its modulus
// is an odd number of that many bits, not a real RSA modulus.
func RSA(bits, i int) ssh.PublicKey {
	n := new(big.Int).SetBytes(seed("rsa", i, (bits+7)/8))
	n.SetBit(n, bits-1, 1)
	for j := bits; j < n.BitLen(); j++ {
		n.SetBit(n, j, 0)
	}
	n.SetBit(n, 0, 1)
	return must(ssh.NewPublicKey(&rsa.PublicKey{N: n, E: 65537}))
}

// SKEd25519 returns the i-th test sk-ssh-ed25519@openssh.com public key.
func SKEd25519(i int) ssh.PublicKey {
	blob := ssh.Marshal(struct {
		Type, Key, App string
	}{ssh.KeyAlgoSKED25519, string(seed("sk-ed25519", i, 32)), "ssh:"})
	return must(ssh.ParsePublicKey(blob))
}

// SKECDSA returns the i-th test sk-ecdsa-sha2-nistp256@openssh.com key.
func SKECDSA(i int) ssh.PublicKey {
	p := ECDSA(256, i).(ssh.CryptoPublicKey).CryptoPublicKey().(*ecdsa.PublicKey)
	point, err := p.Bytes()
	if err != nil {
		panic("testkeys: " + err.Error())
	}
	blob := ssh.Marshal(struct {
		Type, Curve, Key, App string
	}{ssh.KeyAlgoSKECDSA256, "nistp256", string(point), "ssh:"})
	return must(ssh.ParsePublicKey(blob))
}

// DSABlob returns the wire form of a DSA (ssh-dss) public key, which
// golang.org/x/crypto/ssh no longer parses.
func DSABlob() []byte {
	return ssh.Marshal(struct {
		Type       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", big.NewInt(23), big.NewInt(11), big.NewInt(4), big.NewInt(8)})
}

// Cert returns the i-th test user certificate, for the i-th ed25519 key,
// signed by ed25519 key 1000000+i.
func Cert(i int) *ssh.Certificate {
	c := &ssh.Certificate{
		Key:             Ed25519(i),
		Serial:          uint64(i),
		CertType:        ssh.UserCert,
		KeyId:           "testkeys",
		ValidPrincipals: []string{"test"},
		ValidBefore:     ssh.CertTimeInfinity,
	}
	r := rand.NewChaCha8([32]byte{byte(i)})
	if err := c.SignCert(r, Ed25519Signer(1000000+i)); err != nil {
		panic("testkeys: " + err.Error())
	}
	return c
}

// Line returns pk as an authorized_keys line with an optional comment.
func Line(pk ssh.PublicKey, comment string) string {
	l := pk.Type() + " " + base64.StdEncoding.EncodeToString(pk.Marshal())
	if comment != "" {
		l += " " + comment
	}
	return l
}

// Fast returns a generator of distinct ed25519 public keys for benchmarks,
// made of seeded random bytes: fast, but with no private key at all.
func Fast(seed uint64) func() ssh.PublicKey {
	r := rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16), 3: byte(seed >> 24)})
	return func() ssh.PublicKey {
		b := make([]byte, ed25519.PublicKeySize)
		_, _ = r.Read(b)
		return must(ssh.NewPublicKey(ed25519.PublicKey(b)))
	}
}
