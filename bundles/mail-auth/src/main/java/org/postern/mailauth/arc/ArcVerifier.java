package org.postern.mailauth.arc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.postern.mailauth.arc.ArcChain.ArcSet;
import org.postern.mailauth.dkim.Canonicalization;
import org.postern.mailauth.dkim.DkimException;
import org.postern.mailauth.dkim.DkimSignature;
import org.postern.mailauth.dkim.DkimVerifier;
import org.postern.mailauth.dkim.KeyRecord;
import org.postern.mailauth.dkim.Verdict;
import org.postern.smtp.api.HeaderField;

/**
 * Verifies a message's ARC chain as RFC 8617 5.2 says: the structure first ({@link ArcChain}), then every
 * ARC-Message-Signature as a DKIM signature (the newest decides; the older ones give the oldest instance that still
 * passes), then every ARC-Seal from the newest down. All keys are asked for at once through the asynchronous TXT
 * lookup, while the caller's thread reads the body once; the verdict comes when every answer is in.
 */
public final class ArcVerifier {
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

    private final Function<String, CompletionStage<List<String>>> txtLookup;
    private final DkimVerifier messageSignatures;

    /**
     * @param txtLookup the TXT records of a name; an empty list for a name without any, an exceptional completion
     *        when DNS could not answer
     */
    public ArcVerifier(Function<String, CompletionStage<List<String>>> txtLookup, Clock clock) {
        this.txtLookup = txtLookup;
        this.messageSignatures = new DkimVerifier(txtLookup, clock, CLOCK_SKEW, ArcChain.MAX_INSTANCES);
    }

    /**
     * @param header the message's fields, in order, with their raw values
     * @param body the body, read here to its end (not closed) unless the chain is none or broken
     */
    public CompletionStage<ArcVerdict> verify(List<HeaderField> header, InputStream body) throws IOException {
        ArcChain chain = ArcChain.read(header);
        if (chain.none()) {
            return CompletableFuture.completedFuture(new ArcVerdict(ArcVerdict.Result.NONE, "", chain, 0));
        }
        if (chain.broken()) {
            return CompletableFuture.completedFuture(new ArcVerdict(ArcVerdict.Result.FAIL, chain.brokenReason().get(), chain, 0));
        }
        Map<String, CompletableFuture<List<String>>> sealKeys = new LinkedHashMap<>();
        for (ArcSet set : chain.sets()) {
            sealKeys.computeIfAbsent(set.seal().keyName(), this::lookup);
        }
        // newest first, so that the first verdict decides and the walk down finds the oldest pass
        Map<Integer, DkimSignature> signatures = new LinkedHashMap<>();
        for (ArcSet set : newestFirst(chain)) {
            signatures.put(set.signaturePosition(), set.messageSignature());
        }
        CompletableFuture<List<Verdict>> signatureVerdicts = messageSignatures.verify(header, signatures, body).toCompletableFuture();
        return CompletableFuture.allOf(sealKeys.values().toArray(CompletableFuture[]::new))
                .handle((ignored, error) -> null)
                .thenCombine(signatureVerdicts, (ignored, verdicts) -> verdict(chain, verdicts, sealKeys));
    }

    private static List<ArcSet> newestFirst(ArcChain chain) {
        List<ArcSet> sets = new ArrayList<>(chain.sets());
        Collections.reverse(sets);
        return sets;
    }

    private CompletableFuture<List<String>> lookup(String name) {
        try {
            return txtLookup.apply(name).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static ArcVerdict verdict(ArcChain chain, List<Verdict> signatureVerdicts, Map<String, CompletableFuture<List<String>>> sealKeys) {
        Verdict newest = signatureVerdicts.get(0);
        if (newest.result() != Verdict.Result.PASS) {
            String why = newest.detail().isEmpty() ? newest.result().keyword() : newest.result().keyword() + ", " + newest.detail();
            return new ArcVerdict(ArcVerdict.Result.FAIL, "ARC-Message-Signature i=" + chain.highestInstance() + ": " + why, chain, 0);
        }
        for (ArcSet set : newestFirst(chain)) {
            String failure = sealFailure(chain, set, sealKeys.get(set.seal().keyName()));
            if (failure != null) {
                return new ArcVerdict(ArcVerdict.Result.FAIL, "ARC-Seal i=" + set.instance() + ": " + failure, chain, 0);
            }
        }
        int oldestPass = chain.highestInstance();
        while (oldestPass > 1 && signatureVerdicts.get(chain.highestInstance() - oldestPass + 1).result() == Verdict.Result.PASS) {
            oldestPass--;
        }
        return new ArcVerdict(ArcVerdict.Result.PASS, "", chain, oldestPass);
    }

    /** Why a seal does not validate, or null when it does. */
    private static String sealFailure(ArcChain chain, ArcSet set, CompletableFuture<List<String>> lookup) {
        ArcSeal seal = set.seal();
        KeyRecord key;
        try {
            key = KeyRecord.firstUsable(lookup.join(), seal.algorithm());
        } catch (CompletionException e) {
            return "public key: DNS query failed for " + seal.keyName();
        } catch (DkimException e) {
            return e.getMessage();
        }
        try {
            byte[] data = sealedData(chain.sets().subList(0, set.instance() - 1), set.results(),
                    new HeaderField(DkimSignature.ARC_MESSAGE_SIGNATURE, set.messageSignature().rawValue()), seal.rawValue());
            return seal.algorithm().verify(key.key(), data, seal.signature()) ? null : "signature does not match";
        } catch (GeneralSecurityException e) {
            return "bad signature data";
        }
    }

    /**
     * What an ARC-Seal signs (RFC 8617 5.1.1): the sets below it, each ARC-Authentication-Results,
     * ARC-Message-Signature, ARC-Seal in relaxed canonicalization, then its own set's two fields and the seal
     * itself with {@code b=} emptied and no final CRLF.
     */
    static byte[] sealedData(List<ArcSet> below, HeaderField results, HeaderField messageSignature, String sealRawValue) {
        StringBuilder data = new StringBuilder();
        for (ArcSet set : below) {
            data.append(Canonicalization.RELAXED.header(set.results()))
                    .append(Canonicalization.RELAXED.header(DkimSignature.ARC_MESSAGE_SIGNATURE, set.messageSignature().rawValue())).append("\r\n")
                    .append(Canonicalization.RELAXED.header(ArcSeal.FIELD_NAME, set.seal().rawValue())).append("\r\n");
        }
        data.append(Canonicalization.RELAXED.header(results))
                .append(Canonicalization.RELAXED.header(messageSignature))
                .append(Canonicalization.RELAXED.header(ArcSeal.FIELD_NAME, DkimSignature.withoutSignatureValue(sealRawValue)));
        return data.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
