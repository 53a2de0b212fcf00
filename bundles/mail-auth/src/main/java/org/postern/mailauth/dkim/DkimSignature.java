package org.postern.mailauth.dkim;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.postern.smtp.api.HeaderField;

/**
 * A parsed signature field (RFC 6376 3.5), checked as 6.1.1 says: the required tags are there, the version is 1,
 * the algorithm and canonicalization are known, {@code i=} is within {@code d=}, From is signed, and {@code x=} is
 * not before {@code t=}. The field's name is kept, so an ARC-Message-Signature (RFC 8617) parses the same way.
 *
 * @param fieldName the name of the field it came from, e.g. {@code DKIM-Signature}
 * @param rawValue the field's value as received (needed to hash it with {@code b=} emptied)
 * @param timestamp {@code t=}, in seconds since the epoch, or -1
 * @param expiration {@code x=}, in seconds since the epoch, or -1
 * @param bodyLength {@code l=}, or -1 for the whole body
 */
public record DkimSignature(String fieldName, String rawValue, TagList tags, Algorithm algorithm, byte[] signature,
        byte[] bodyHash, Canonicalization headerCanonicalization, Canonicalization bodyCanonicalization, String domain,
        String selector, String identity, List<String> signedFields, long timestamp, long expiration, long bodyLength) {
    private static final Pattern DOMAIN = Pattern.compile("(?i)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*");
    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,12}");
    private static final Pattern LENGTH = Pattern.compile("[0-9]{1,18}");
    private static final int PREFIX_LENGTH = 8;
    /** The name of the ARC-Message-Signature field (RFC 8617 4.1.2), which is signed as a DKIM-Signature is. @since 1.1 */
    public static final String ARC_MESSAGE_SIGNATURE = "ARC-Message-Signature";

    public static DkimSignature parse(String fieldName, String rawValue) throws DkimException {
        TagList tags = TagList.parse(rawValue);
        if (!tags.get("v").orElseThrow(() -> DkimException.invalid("missing v tag")).equals("1")) {
            throw DkimException.invalid("unsupported version");
        }
        return parse(fieldName, rawValue, tags, tags.get("i").orElse(null));
    }

    /**
     * An ARC-Message-Signature (RFC 8617 4.1.2): a DKIM signature without {@code v=}, whose {@code i=} is the ARC
     * instance, not an identity; its identity is {@code @d}. The instance is left to the caller to read and check.
     *
     * @since 1.1
     */
    public static DkimSignature parseArcMessageSignature(String rawValue) throws DkimException {
        TagList tags = TagList.parse(rawValue);
        if (tags.get("v").isPresent()) {
            throw DkimException.invalid("v tag in an ARC-Message-Signature");
        }
        return parse(ARC_MESSAGE_SIGNATURE, rawValue, tags, null);
    }

    private static DkimSignature parse(String fieldName, String rawValue, TagList tags, String identityTag) throws DkimException {
        Algorithm algorithm = Algorithm.of(tags.require("a"));
        byte[] signature = base64(tags, "b");
        byte[] bodyHash = base64(tags, "bh");
        String[] canonicalization = tags.get("c").orElse("simple/simple").split("/", -1);
        if (canonicalization.length > 2) {
            throw DkimException.invalid("unsupported canonicalization");
        }
        Canonicalization header = Canonicalization.of(canonicalization[0]);
        Canonicalization body = canonicalization.length == 2 ? Canonicalization.of(canonicalization[1]) : Canonicalization.SIMPLE;
        String domain = tags.require("d").toLowerCase(Locale.ROOT);
        if (!DOMAIN.matcher(domain).matches()) {
            throw DkimException.invalid("invalid domain in d tag");
        }
        String selector = tags.require("s");
        if (!DOMAIN.matcher(selector).matches()) {
            throw DkimException.invalid("invalid selector in s tag");
        }
        List<String> signedFields = new ArrayList<>();
        for (String name : tags.compact("h").orElseThrow(() -> DkimException.invalid("missing h tag")).split(":", -1)) {
            if (name.isEmpty()) {
                throw DkimException.invalid("empty field name in h tag");
            }
            signedFields.add(name);
        }
        if (signedFields.stream().noneMatch(name -> name.equalsIgnoreCase("from"))) {
            throw DkimException.invalid("From field not signed");
        }
        String identity = identityTag == null ? "@" + domain : identityTag;
        int at = identity.lastIndexOf('@');
        if (at < 0 || !withinDomain(identity.substring(at + 1), domain)) {
            throw DkimException.invalid("bad identity");
        }
        if (tags.get("q").isPresent() && !Arrays.asList(tags.compact("q").orElseThrow().split(":")).contains("dns/txt")) {
            throw DkimException.invalid("unsupported query method");
        }
        long timestamp = number(tags, "t", NUMBER);
        long expiration = number(tags, "x", NUMBER);
        if (expiration >= 0 && timestamp >= 0 && expiration < timestamp) {
            throw DkimException.invalid("expiration before timestamp");
        }
        return new DkimSignature(fieldName, rawValue, tags, algorithm, signature, bodyHash, header, body, domain, selector,
                identity, List.copyOf(signedFields), timestamp, expiration, number(tags, "l", LENGTH));
    }

    /** True when {@code name} is {@code domain} or a name under it. */
    static boolean withinDomain(String name, String domain) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.equals(domain) || lower.endsWith("." + domain);
    }

    private static byte[] base64(TagList tags, String tag) throws DkimException {
        try {
            return Base64.getDecoder().decode(tags.compact(tag).orElseThrow(() -> DkimException.invalid("missing " + tag + " tag")));
        } catch (IllegalArgumentException e) {
            throw DkimException.invalid("bad base64 in " + tag + " tag");
        }
    }

    private static long number(TagList tags, String tag, Pattern form) throws DkimException {
        String value = tags.get(tag).orElse(null);
        if (value == null) {
            return -1;
        }
        if (!form.matcher(value).matches()) {
            throw DkimException.invalid("bad " + tag + " tag");
        }
        return Long.parseLong(value);
    }

    /** The DNS name of the key record (RFC 6376 3.6.2.1). */
    public String keyName() {
        return selector + "._domainkey." + domain;
    }

    /** The first characters of {@code b=}, which tell signatures of one domain apart (RFC 6008). */
    public String signaturePrefix() {
        return signaturePrefix(tags);
    }

    static String signaturePrefix(TagList tags) {
        String b = tags.compact("b").orElse("");
        return b.substring(0, Math.min(PREFIX_LENGTH, b.length()));
    }

    /**
     * The header data that is signed (RFC 6376 3.7): the fields named by {@code h=}, each taken from the bottom up
     * (a name given once more than the field occurs adds nothing, which is how over-signing works), canonicalized,
     * then this signature's own field with the value of {@code b=} emptied and without its final CRLF.
     *
     * @param header the message's fields in order
     * @param self the position of this signature's field in {@code header}, never itself a candidate for {@code h=}
     */
    public byte[] headerData(List<HeaderField> header, int self) {
        return headerData(header, self, signedFields, headerCanonicalization, fieldName, rawValue);
    }

    static byte[] headerData(List<HeaderField> header, int self, List<String> signedFields, Canonicalization canonicalization,
            String fieldName, String rawValue) {
        boolean[] used = new boolean[header.size()];
        if (self >= 0) {
            used[self] = true;
        }
        StringBuilder data = new StringBuilder();
        for (String name : signedFields) {
            for (int i = header.size() - 1; i >= 0; i--) {
                if (!used[i] && header.get(i).name().equalsIgnoreCase(name)) {
                    used[i] = true;
                    data.append(canonicalization.header(header.get(i)));
                    break;
                }
            }
        }
        data.append(canonicalization.header(fieldName, withoutSignatureValue(rawValue)));
        return data.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * The raw value with the value of {@code b=}, and the white space around it, taken out (RFC 6376 3.7), as a
     * signature's own field is hashed; public since 1.1, for the ARC-Seal.
     */
    public static String withoutSignatureValue(String rawValue) {
        StringBuilder result = new StringBuilder();
        String[] specs = rawValue.split(";", -1);
        for (int i = 0; i < specs.length; i++) {
            String spec = specs[i];
            int equals = spec.indexOf('=');
            if (equals >= 0 && spec.substring(0, equals).strip().equals("b")) {
                spec = spec.substring(0, equals + 1);
            }
            result.append(spec);
            if (i < specs.length - 1) {
                result.append(';');
            }
        }
        return result.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof DkimSignature that && fieldName.equals(that.fieldName) && rawValue.equals(that.rawValue);
    }

    @Override
    public int hashCode() {
        return rawValue.hashCode();
    }

    @Override
    public String toString() {
        return fieldName + ":" + rawValue;
    }
}
