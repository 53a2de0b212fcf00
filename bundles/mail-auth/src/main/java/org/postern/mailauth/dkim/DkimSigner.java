package org.postern.mailauth.dkim;

import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.postern.smtp.api.HeaderField;

/**
 * Signs messages for one domain with one key (RFC 6376 5). The field names to sign are given in order; each is
 * signed as often as the message has it, and a name in {@code overSigned} once more, so that a field of that name
 * added later breaks the signature (RFC 6376 8.15).
 */
public final class DkimSigner {
    /** The fields signed unless configured otherwise: what readers see and what MIME needs to show the body. */
    public static final List<String> DEFAULT_FIELDS = List.of("From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
            "In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Resent-Date",
            "Resent-From", "Resent-To", "Resent-Cc", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post");
    private static final int LINE_WIDTH = 72;
    private static final int BODY_CHUNK = 64 * 1024;

    private final SigningKey key;
    private final String domain;
    private final String selector;
    private final List<String> fields;
    private final Set<String> overSigned;
    private final Canonicalization headerCanonicalization;
    private final Canonicalization bodyCanonicalization;

    public DkimSigner(SigningKey key, String domain, String selector, List<String> fields, Set<String> overSigned,
            Canonicalization headerCanonicalization, Canonicalization bodyCanonicalization) {
        this.key = key;
        this.domain = domain.toLowerCase(Locale.ROOT);
        this.selector = selector;
        this.fields = List.copyOf(fields);
        this.overSigned = overSigned.stream().map(name -> name.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        this.headerCanonicalization = headerCanonicalization;
        this.bodyCanonicalization = bodyCanonicalization;
    }

    public SigningKey key() {
        return key;
    }

    public String domain() {
        return domain;
    }

    public String selector() {
        return selector;
    }

    /**
     * Reads the body to its end, in chunks, and returns its hash as this signer canonicalizes it; signers of one body
     * canonicalization can share it, as both algorithms hash with SHA-256.
     */
    public byte[] bodyHash(InputStream body) throws IOException {
        BodyHasher hasher = new BodyHasher(bodyCanonicalization, key.algorithm().digestName(), -1);
        byte[] chunk = new byte[BODY_CHUNK];
        for (int read = body.read(chunk); read >= 0; read = body.read(chunk)) {
            hasher.update(chunk, 0, read);
        }
        return hasher.digest();
    }

    /**
     * The value of a DKIM-Signature field for this message, folded, to be added as {@code DKIM-Signature: <value>}
     * (one space after the colon, as {@code MessageHeader.prepend} writes it: that space is signed when the header
     * canonicalization is simple).
     */
    public String sign(List<HeaderField> header, byte[] bodyHash, Instant now) throws GeneralSecurityException {
        return sign(DkimVerifier.FIELD_NAME, "v=1", header, bodyHash, now);
    }

    /**
     * The value of a signature field of another name that is signed as DKIM-Signature is, such as an
     * ARC-Message-Signature (RFC 8617 4.1.2: {@code i=<instance>} in place of {@code v=1}).
     *
     * @param fieldName the field the value is for, which the signature covers
     * @param firstTags what the value starts with, before {@code a=}, e.g. {@code i=2}
     * @since 1.1
     */
    public String sign(String fieldName, String firstTags, List<HeaderField> header, byte[] bodyHash, Instant now)
            throws GeneralSecurityException {
        List<String> signed = signedFields(header);
        StringBuilder value = new StringBuilder()
                .append(firstTags).append("; a=").append(key.algorithm().keyword())
                .append("; c=").append(headerCanonicalization.keyword()).append('/').append(bodyCanonicalization.keyword())
                .append("; d=").append(domain).append("; s=").append(selector).append("; t=").append(now.getEpochSecond()).append(";\r\n\th=");
        int lineLength = 3;
        for (int i = 0; i < signed.size(); i++) {
            String name = signed.get(i) + (i < signed.size() - 1 ? ":" : ";");
            if (lineLength + name.length() > LINE_WIDTH) {
                value.append("\r\n\t ");
                lineLength = 2;
            }
            value.append(name);
            lineLength += name.length();
        }
        value.append("\r\n\tbh=").append(Base64.getEncoder().encodeToString(bodyHash)).append(";\r\n\tb=");
        byte[] headerData = DkimSignature.headerData(header, -1, signed, headerCanonicalization, fieldName, " " + value);
        return value.append(folded(key.algorithm().sign(key.key(), headerData))).toString();
    }

    /**
     * A signature in base64, folded into lines of 72 characters as the value of a {@code b=} tag that starts a line
     * (white space in {@code b=} is ignored when verifying).
     *
     * @since 1.1
     */
    public static String folded(byte[] signature) {
        String base64 = Base64.getEncoder().encodeToString(signature);
        StringBuilder folded = new StringBuilder();
        for (int start = 0; start < base64.length(); start += LINE_WIDTH) {
            folded.append(start == 0 ? "" : "\r\n\t ").append(base64, start, Math.min(base64.length(), start + LINE_WIDTH));
        }
        return folded.toString();
    }

    private List<String> signedFields(List<HeaderField> header) {
        List<String> signed = new ArrayList<>();
        for (String name : fields) {
            long present = header.stream().filter(field -> field.name().equalsIgnoreCase(name)).count();
            long times = present + (overSigned.contains(name.toLowerCase(Locale.ROOT)) ? 1 : 0);
            for (long i = 0; i < times; i++) {
                signed.add(name);
            }
        }
        return signed;
    }
}
