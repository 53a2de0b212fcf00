package org.postern.mailauth.arc;

import java.util.Base64;
import java.util.Locale;
import org.postern.mailauth.dkim.Algorithm;
import org.postern.mailauth.dkim.DkimException;
import org.postern.mailauth.dkim.TagList;
import org.postern.mailauth.dkim.Verdict;

/**
 * A parsed ARC-Seal field (RFC 8617 4.1.3): {@code i=}, {@code cv=}, {@code a=}, {@code b=}, {@code d=}, {@code s=}
 * are required, {@code h=} is forbidden (a seal's scope is fixed by the RFC, not chosen by the sealer).
 *
 * @param rawValue the field's value as received, hashed with {@code b=} emptied
 */
public record ArcSeal(String rawValue, int instance, ChainValidation chainValidation, Algorithm algorithm, byte[] signature,
        String domain, String selector) {
    public static final String FIELD_NAME = "ARC-Seal";

    /** The {@code cv=} tag: what the sealer found the chain below its own set to be. */
    public enum ChainValidation {
        NONE, PASS, FAIL;

        public String keyword() {
            return name().toLowerCase(Locale.ROOT);
        }

        static ChainValidation of(String keyword) throws DkimException {
            for (ChainValidation value : values()) {
                if (value.keyword().equals(keyword.toLowerCase(Locale.ROOT))) {
                    return value;
                }
            }
            throw new DkimException(Verdict.Result.PERMERROR, "unknown cv value " + keyword);
        }
    }

    public static ArcSeal parse(String rawValue) throws DkimException {
        TagList tags = TagList.parse(rawValue);
        if (tags.get("h").isPresent()) {
            throw new DkimException(Verdict.Result.PERMERROR, "h tag in an ARC-Seal");
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(tags.require("b").replaceAll("[ \t\r\n]", ""));
        } catch (IllegalArgumentException e) {
            throw new DkimException(Verdict.Result.PERMERROR, "b tag is not base64");
        }
        return new ArcSeal(rawValue, ArcChain.instance(tags), ChainValidation.of(tags.require("cv")), Algorithm.of(tags.require("a")),
                signature, tags.require("d").toLowerCase(Locale.ROOT), tags.require("s"));
    }

    /** The DNS name of the key record, as for DKIM (RFC 8617 4.1.3). */
    public String keyName() {
        return selector + "._domainkey." + domain;
    }
}
