package org.postern.mailauth.arc;

import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.postern.mailauth.dkim.Algorithm;
import org.postern.mailauth.dkim.Canonicalization;
import org.postern.mailauth.dkim.DkimSignature;
import org.postern.mailauth.dkim.DkimSigner;
import org.postern.mailauth.dkim.SigningKey;
import org.postern.smtp.api.HeaderField;

/**
 * Adds the next ARC set to a message (RFC 8617 5.1) for one domain and RSA key: ARC-Authentication-Results with this
 * server's results, an ARC-Message-Signature (relaxed/relaxed, rsa-sha256, signed as a DKIM signature is) and an
 * ARC-Seal whose {@code cv=} is what verifying the chain found. A failed chain is sealed once with {@code cv=fail},
 * the seal covering only its own set (5.1.2); after a seal that says {@code cv=fail}, or past 50 sets, nothing is added.
 */
public final class ArcSealer {
    /** Fields an ARC-Message-Signature must not sign (RFC 8617 4.1.2): the ARC fields, and results that change on the way. */
    private static final Set<String> NEVER_SIGNED = Set.of("arc-seal", "arc-message-signature", "arc-authentication-results",
            "authentication-results");

    private final SigningKey key;
    private final String domain;
    private final String selector;
    private final DkimSigner messageSigner;

    /**
     * @param key an RSA key: Ed25519 ARC signatures are not deployed yet (RFC 8617 names rsa-sha256 only)
     * @param signedFields the fields the ARC-Message-Signature signs, each as often as the message has it; ARC
     *        fields and Authentication-Results are left out
     */
    public ArcSealer(SigningKey key, String domain, String selector, List<String> signedFields) {
        if (key.algorithm() != Algorithm.RSA_SHA256) {
            throw new IllegalArgumentException("ARC seals with an RSA key, not " + key.algorithm().keyword());
        }
        this.key = key;
        this.domain = domain.toLowerCase(Locale.ROOT);
        this.selector = selector;
        List<String> fields = signedFields.stream().filter(name -> !NEVER_SIGNED.contains(name.toLowerCase(Locale.ROOT))).toList();
        this.messageSigner = new DkimSigner(key, domain, selector, fields, Set.of(), Canonicalization.RELAXED, Canonicalization.RELAXED);
    }

    /**
     * The new set's fields, top first (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results), to be added at
     * the top of the header in that order; empty when the chain may not be continued.
     *
     * @param authResults this server's Authentication-Results for the message: its authserv-id, then the results
     * @param verdict what verifying the message's chain found
     * @param body the body, read here to its end (not closed)
     */
    public Optional<List<HeaderField>> seal(List<HeaderField> header, InputStream body, String authResults, ArcVerdict verdict,
            Instant now) throws IOException, GeneralSecurityException {
        int instance = verdict.instance() + 1;
        if (verdict.chain().markedFailed() || instance > ArcChain.MAX_INSTANCES) {
            return Optional.empty();
        }
        HeaderField results = new HeaderField(ArcChain.RESULTS_FIELD, " i=" + instance + "; " + authResults.strip().replace("; ", ";\r\n\t"));
        HeaderField messageSignature = new HeaderField(DkimSignature.ARC_MESSAGE_SIGNATURE,
                " " + messageSigner.sign(DkimSignature.ARC_MESSAGE_SIGNATURE, "i=" + instance, header, messageSigner.bodyHash(body), now));
        String seal = "i=" + instance + "; a=" + key.algorithm().keyword() + "; t=" + now.getEpochSecond() + "; cv=" + verdict.result().keyword()
                + "; d=" + domain + "; s=" + selector + ";\r\n\tb=";
        List<ArcChain.ArcSet> below = verdict.result() == ArcVerdict.Result.PASS ? verdict.chain().sets() : List.of();
        byte[] data = ArcVerifier.sealedData(below, results, messageSignature, seal);
        HeaderField sealField = new HeaderField(ArcSeal.FIELD_NAME, " " + seal + DkimSigner.folded(key.algorithm().sign(key.key(), data)));
        return Optional.of(List.of(sealField, messageSignature, results));
    }
}
