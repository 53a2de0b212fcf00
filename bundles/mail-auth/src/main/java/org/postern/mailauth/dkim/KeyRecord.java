package org.postern.mailauth.dkim;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * A key record (RFC 6376 3.6.1), checked against the signature that names it: a {@code v=} tag, if any, is
 * {@code DKIM1} and comes first; {@code k=} (rsa by default) matches the algorithm; {@code h=}, if any, allows
 * sha256; {@code s=}, if any, allows email; an empty {@code p=} is a revoked key; an RSA key is at least 1024 bits
 * (RFC 8301 3.2). An Ed25519 key is the raw 32-byte public key (RFC 8463 4), read here as X.509 SubjectPublicKeyInfo.
 *
 * @param testing the {@code t=y} flag: the domain is testing DKIM
 * @param strict the {@code t=s} flag: the signature's {@code i=} must be in {@code d=} itself, not a subdomain
 */
public record KeyRecord(PublicKey key, boolean testing, boolean strict) {
    static final int SHORTEST_RSA_KEY = 1024;
    /** DER of SubjectPublicKeyInfo { AlgorithmIdentifier { id-Ed25519 }, BIT STRING of 32 octets } before the key. */
    private static final byte[] ED25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
    private static final int ED25519_KEY_LENGTH = 32;

    public static KeyRecord parse(String text, Algorithm algorithm) throws DkimException {
        TagList tags;
        try {
            tags = TagList.parse(text);
        } catch (DkimException e) {
            throw DkimException.invalid("public key: syntax error, " + e.getMessage());
        }
        if (tags.get("v").isPresent() && (!tags.get("v").get().equals("DKIM1") || !tags.tags().keySet().iterator().next().equals("v"))) {
            throw DkimException.invalid("public key: unsupported version");
        }
        if (!tags.get("k").orElse("rsa").equals(algorithm.keyType())) {
            throw DkimException.invalid("public key: key type " + tags.get("k").orElse("rsa") + " does not match " + algorithm.keyword());
        }
        if (tags.get("h").isPresent() && !colonList(tags, "h").contains(algorithm.hashName())) {
            throw DkimException.invalid("public key: does not support hash algorithm '" + algorithm.hashName() + "'");
        }
        if (tags.get("s").isPresent() && !colonList(tags, "s").contains("email") && !colonList(tags, "s").contains("*")) {
            throw DkimException.invalid("public key: does not support email");
        }
        String data = tags.compact("p").orElseThrow(() -> DkimException.invalid("public key: missing p= tag"));
        if (data.isEmpty()) {
            throw DkimException.invalid("public key: revoked");
        }
        List<String> flags = tags.get("t").isPresent() ? colonList(tags, "t") : List.of();
        return new KeyRecord(publicKey(algorithm, data), flags.contains("y"), flags.contains("s"));
    }

    /**
     * The first of a name's TXT records that parses and fits the algorithm (RFC 6376 3.6.2.2 leaves the choice
     * open), or why none does.
     *
     * @since 1.1
     */
    public static KeyRecord firstUsable(List<String> records, Algorithm algorithm) throws DkimException {
        if (records.isEmpty()) {
            throw DkimException.invalid("public key: not available");
        }
        DkimException first = null;
        for (String record : records) {
            try {
                return parse(record, algorithm);
            } catch (DkimException e) {
                first = first == null ? e : first;
            }
        }
        throw first;
    }

    private static List<String> colonList(TagList tags, String tag) {
        return Arrays.asList(tags.compact(tag).orElseThrow().split(":"));
    }

    private static PublicKey publicKey(Algorithm algorithm, String data) throws DkimException {
        byte[] octets;
        try {
            octets = Base64.getDecoder().decode(data);
        } catch (IllegalArgumentException e) {
            throw DkimException.invalid("public key: invalid data");
        }
        try {
            if (algorithm == Algorithm.ED25519_SHA256) {
                if (octets.length != ED25519_KEY_LENGTH) {
                    throw DkimException.invalid("public key: an Ed25519 key has 32 octets, not " + octets.length);
                }
                byte[] encoded = Arrays.copyOf(ED25519_SPKI_PREFIX, ED25519_SPKI_PREFIX.length + ED25519_KEY_LENGTH);
                System.arraycopy(octets, 0, encoded, ED25519_SPKI_PREFIX.length, ED25519_KEY_LENGTH);
                return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
            }
            RSAPublicKey key = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(octets));
            if (key.getModulus().bitLength() < SHORTEST_RSA_KEY) {
                throw DkimException.invalid("public key: " + key.getModulus().bitLength() + " bits are too few (RFC 8301)");
            }
            return key;
        } catch (GeneralSecurityException | ClassCastException e) {
            throw DkimException.invalid("public key: invalid data");
        }
    }

    /** The record to publish for a public key at {@code <selector>._domainkey.<domain>}. */
    public static String publish(PublicKey key) {
        byte[] encoded = key.getEncoded();
        if (key.getAlgorithm().equals("RSA")) {
            return "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(encoded);
        }
        byte[] raw = Arrays.copyOfRange(encoded, encoded.length - ED25519_KEY_LENGTH, encoded.length);
        return "v=DKIM1; k=ed25519; p=" + Base64.getEncoder().encodeToString(raw);
    }
}
