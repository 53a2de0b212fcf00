package org.postern.mailauth.dkim;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;

/**
 * The signing algorithms this engine signs and verifies with: {@code rsa-sha256} (RFC 6376) and
 * {@code ed25519-sha256} (RFC 8463, which signs the SHA-256 hash of the header data with PureEdDSA). RFC 8301 3.1
 * forbids {@code rsa-sha1} for signing and verifying, so it is not one of them: its signatures are permerrors.
 */
public enum Algorithm {
    RSA_SHA256("rsa-sha256", "rsa", "SHA256withRSA", false),
    ED25519_SHA256("ed25519-sha256", "ed25519", "Ed25519", true);

    private final String keyword;
    private final String keyType;
    private final String jdkSignature;
    private final boolean signsHash;

    Algorithm(String keyword, String keyType, String jdkSignature, boolean signsHash) {
        this.keyword = keyword;
        this.keyType = keyType;
        this.jdkSignature = jdkSignature;
        this.signsHash = signsHash;
    }

    /** The name in the {@code a=} tag. */
    public String keyword() {
        return keyword;
    }

    /** The key type in the key record's {@code k=} tag. */
    public String keyType() {
        return keyType;
    }

    /** The hash in the key record's {@code h=} tag; both algorithms hash with SHA-256. */
    public String hashName() {
        return "sha256";
    }

    /** The JDK's name of the hash, for {@link BodyHasher}. */
    public String digestName() {
        return "SHA-256";
    }

    public static Algorithm of(String keyword) throws DkimException {
        for (Algorithm algorithm : values()) {
            if (algorithm.keyword.equals(keyword)) {
                return algorithm;
            }
        }
        if (keyword.equals("rsa-sha1")) {
            throw DkimException.invalid("rsa-sha1 is not accepted (RFC 8301)");
        }
        throw DkimException.invalid("unsupported algorithm");
    }

    /** Signs header data (public since 1.1, for the ARC-Seal, which is no DKIM signature but is signed alike). */
    public byte[] sign(PrivateKey key, byte[] headerData) throws GeneralSecurityException {
        Signature signature = Signature.getInstance(jdkSignature);
        signature.initSign(key);
        signature.update(signedInput(headerData));
        return signature.sign();
    }

    /** Verifies a signature over header data (public since 1.1, for the ARC-Seal). */
    public boolean verify(PublicKey key, byte[] headerData, byte[] signatureValue) throws GeneralSecurityException {
        Signature signature = Signature.getInstance(jdkSignature);
        signature.initVerify(key);
        signature.update(signedInput(headerData));
        return signature.verify(signatureValue);
    }

    private byte[] signedInput(byte[] headerData) throws GeneralSecurityException {
        return signsHash ? MessageDigest.getInstance(digestName()).digest(headerData) : headerData;
    }
}
