package org.postern.smtp.plugin.greylisting.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code p0f} option and its {@code p0f_match}: pairs {@code key,value} of the client's p0f fingerprint, of
 * which one is enough to greylist the client; a client none matches, or without a fingerprint, is not greylisted.
 * {@code genre} and {@code link} match a case-insensitive regular expression, {@code distance} more hops than the value,
 * {@code uptime} fewer minutes; {@code detail}, a key of p0f 2, is accepted and matches nothing, as in qpsmtpd.
 */
final class P0fMatch {
    /**
     * Connection note {@code p0f}, set by ident/p0f at connect: qpsmtpd's hash of the fingerprint. A key of the same
     * name and type is equal to ident/p0f's, so this finds what that bundle stored.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static final NoteKey<Map<String, Object>> P0F = (NoteKey) NoteKey.of("p0f", Map.class);
    private static final Set<String> KEYS = Set.of("genre", "detail", "uptime", "link", "distance");
    /** The start of a string that Perl reads as a number; without one, Perl reads 0. */
    private static final Pattern PERL_NUMBER = Pattern.compile("^\\s*[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Logger LOG = LoggerFactory.getLogger(P0fMatch.class);

    private record Criterion(String key, String value, Predicate<Object> matches) {
    }

    private final List<Criterion> criteria;

    private P0fMatch(List<Criterion> criteria) {
        this.criteria = criteria;
    }

    /**
     * The criteria of the option as qpsmtpd reads it, {@code split(/,/)} into a hash: pairs, a later key replacing an
     * earlier one; an empty key and one without a value are left out. Empty when the option is off (empty or 0).
     */
    static Optional<P0fMatch> of(String option) {
        if (!PluginConventions.perlTrue(option)) {
            return Optional.empty();
        }
        String[] fields = option.split(",");
        Map<String, String> pairs = new LinkedHashMap<>();
        for (int i = 0; i < fields.length; i += 2) {
            pairs.put(fields[i].strip(), i + 1 < fields.length ? fields[i + 1].strip() : null);
        }
        List<Criterion> criteria = new ArrayList<>();
        pairs.forEach((key, value) -> {
            if (key.isEmpty() || key.equals("0")) {
                return;
            }
            if (!KEYS.contains(key)) {
                LOG.error("configuration {}: key 'p0f': discarding invalid match key ({})", Greylisting.PID, key);
                return;
            }
            if (value == null) {
                LOG.error("configuration {}: key 'p0f': match key ({}) has no value; discarded", Greylisting.PID, key);
                return;
            }
            criterion(key, value).ifPresent(criteria::add);
        });
        return Optional.of(new P0fMatch(List.copyOf(criteria)));
    }

    private static Optional<Criterion> criterion(String key, String value) {
        Predicate<Object> matches;
        switch (key) {
            case "distance" -> {
                double hops = perlNumber(value);
                matches = noted -> perlNumber(noted) > hops;
            }
            case "uptime" -> {
                double minutes = perlNumber(value);
                matches = noted -> perlNumber(noted) < minutes;
            }
            case "genre", "link" -> {
                try {
                    Pattern pattern = Pattern.compile(value, Pattern.CASE_INSENSITIVE);
                    matches = noted -> pattern.matcher(String.valueOf(noted)).find();
                } catch (PatternSyntaxException e) {
                    // qpsmtpd dies at this match ("FATAL PLUGIN ERROR") and lets the mail through; here the pair is left out
                    LOG.error("configuration {}: key 'p0f': match key ({}): '{}' is not a regular expression; discarded: {}",
                            Greylisting.PID, key, value, e.getDescription());
                    return Optional.empty();
                }
            }
            default -> matches = noted -> false;
        }
        return Optional.of(new Criterion(key, value, matches));
    }

    /** Perl's reading of a value as a number: its leading number, or 0. */
    static double perlNumber(Object value) {
        if (value instanceof Number number) {
            return number.doubleValue();
        }
        Matcher leading = PERL_NUMBER.matcher(String.valueOf(value));
        return leading.find() ? Double.parseDouble(leading.group().strip()) : 0;
    }

    /** Whether the client's fingerprint matches one criterion, with qpsmtpd's log lines. */
    boolean matches(HookContext ctx) {
        Map<String, Object> fingerprint = ctx.session().notes().get(P0F).orElse(null);
        if (fingerprint == null) {
            ctx.log(LogLevel.ERROR, "p0f info missing");
            return false;
        }
        for (Criterion criterion : criteria) {
            Object noted = fingerprint.get(criterion.key());
            if (noted != null && criterion.matches().test(noted)) {
                ctx.log(LogLevel.DEBUG, "p0f " + criterion.key() + " match (" + criterion.value() + ")");
                return true;
            }
        }
        ctx.log(LogLevel.INFO, "skip: no p0f match");
        return false;
    }
}
