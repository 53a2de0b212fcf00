package org.postern.mailauth.arc;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postern.mailauth.dkim.DkimException;
import org.postern.mailauth.dkim.DkimSignature;
import org.postern.mailauth.dkim.TagList;
import org.postern.mailauth.dkim.Verdict;
import org.postern.smtp.api.HeaderField;

/**
 * The ARC sets of a message, read from its header and checked for the structure RFC 8617 5.2 asks for before any
 * signature is: each set has exactly one ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal of its
 * instance; instances run 1..N without gap, N at most 50; the seal of i=1 says {@code cv=none} and every later one
 * {@code cv=pass}. A chain that breaks a rule is {@link #broken()}; no key needs to be asked for to fail it.
 *
 * @param sets the sets 1..N when the structure holds, else those that could be read
 * @param highestInstance the highest instance found (0 without ARC fields), where the next sealer continues
 * @param brokenReason why the structure does not hold, empty when it does
 * @param markedFailed the newest seal already says {@code cv=fail}: an earlier sealer failed the chain, and RFC 8617
 *        5.1.2 lets nobody seal after it
 */
public record ArcChain(List<ArcSet> sets, int highestInstance, Optional<String> brokenReason, boolean markedFailed) {
    public static final int MAX_INSTANCES = 50;
    public static final String RESULTS_FIELD = "ARC-Authentication-Results";
    private static final Pattern RESULTS_INSTANCE = Pattern.compile("\\A[ \t\r\n]*i[ \t\r\n]*=[ \t\r\n]*([0-9]{1,9})[ \t\r\n]*;");
    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,9}");

    /** The three fields of one instance and where they are in the header. */
    public record ArcSet(int instance, HeaderField results, int signaturePosition, DkimSignature messageSignature, ArcSeal seal) {
    }

    /** The fields of one instance as they are found, any of them still missing. */
    private static final class Found {
        HeaderField results;
        HeaderField signatureField;
        int signaturePosition;
        HeaderField sealField;
    }

    /** True when the message has no ARC field at all (RFC 8617: {@code arc=none}). */
    public boolean none() {
        return highestInstance == 0 && brokenReason.isEmpty();
    }

    public boolean broken() {
        return brokenReason.isPresent();
    }

    public static ArcChain read(List<HeaderField> header) {
        TreeMap<Integer, Found> byInstance = new TreeMap<>();
        String broken = null;
        for (int position = 0; position < header.size(); position++) {
            HeaderField field = header.get(position);
            String name = field.name();
            boolean results = name.equalsIgnoreCase(RESULTS_FIELD);
            boolean signature = name.equalsIgnoreCase(DkimSignature.ARC_MESSAGE_SIGNATURE);
            boolean seal = name.equalsIgnoreCase(ArcSeal.FIELD_NAME);
            if (!results && !signature && !seal) {
                continue;
            }
            int instance;
            try {
                instance = results ? resultsInstance(field.value()) : instance(TagList.parse(field.value()));
            } catch (DkimException e) {
                broken = broken != null ? broken : name + ": " + e.getMessage();
                continue;
            }
            Found found = byInstance.computeIfAbsent(instance, i -> new Found());
            boolean duplicate = results ? found.results != null : signature ? found.signatureField != null : found.sealField != null;
            if (duplicate) {
                broken = broken != null ? broken : "two " + name + " fields with i=" + instance;
            } else if (results) {
                found.results = field;
            } else if (signature) {
                found.signatureField = field;
                found.signaturePosition = position;
            } else {
                found.sealField = field;
            }
        }
        int highest = byInstance.isEmpty() ? 0 : byInstance.lastKey();
        List<ArcSet> sets = new ArrayList<>();
        boolean markedFailed = false;
        for (int instance = 1; instance <= Math.min(highest, MAX_INSTANCES); instance++) {
            Found found = byInstance.get(instance);
            if (found == null || found.results == null || found.signatureField == null || found.sealField == null) {
                broken = broken != null ? broken : "ARC set i=" + instance + " is incomplete";
                continue;
            }
            try {
                ArcSeal seal = ArcSeal.parse(found.sealField.value());
                markedFailed = instance == highest && seal.chainValidation() == ArcSeal.ChainValidation.FAIL;
                ArcSeal.ChainValidation expected = instance == 1 ? ArcSeal.ChainValidation.NONE : ArcSeal.ChainValidation.PASS;
                if (seal.chainValidation() != expected) {
                    broken = broken != null ? broken : "ARC-Seal i=" + instance + " has cv=" + seal.chainValidation().keyword();
                }
                sets.add(new ArcSet(instance, found.results, found.signaturePosition,
                        DkimSignature.parseArcMessageSignature(found.signatureField.value()), seal));
            } catch (DkimException e) {
                broken = broken != null ? broken : "ARC set i=" + instance + ": " + e.getMessage();
            }
        }
        if (highest > MAX_INSTANCES) {
            broken = broken != null ? broken : "more than " + MAX_INSTANCES + " ARC sets";
        }
        return new ArcChain(List.copyOf(sets), highest, Optional.ofNullable(broken), markedFailed);
    }

    /** The {@code i=} tag of an ARC-Seal or ARC-Message-Signature: 1 to 50 (RFC 8617 4.2.1). */
    static int instance(TagList tags) throws DkimException {
        String value = tags.require("i");
        if (!NUMBER.matcher(value).matches()) {
            throw new DkimException(Verdict.Result.PERMERROR, "bad i tag");
        }
        return checked(Integer.parseInt(value));
    }

    /** An ARC-Authentication-Results value starts with {@code i=<instance>;}, then the results (RFC 8617 4.1.1). */
    private static int resultsInstance(String value) throws DkimException {
        Matcher matcher = RESULTS_INSTANCE.matcher(value);
        if (!matcher.find()) {
            throw new DkimException(Verdict.Result.PERMERROR, "no i= first");
        }
        return checked(Integer.parseInt(matcher.group(1)));
    }

    private static int checked(int instance) throws DkimException {
        if (instance < 1) {
            throw new DkimException(Verdict.Result.PERMERROR, "i=" + instance + " is below 1");
        }
        return instance;
    }
}
