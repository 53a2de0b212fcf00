package org.postern.smtp.plugin.greylisting.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.PluginConventions;

/**
 * qpsmtpd's {@code geoip} option and its {@code geoip_match}: the countries, by the code ident/geoip notes, whose
 * clients are not greylisted; compared without regard to case, as qpsmtpd's {@code lc $_ eq lc $country}.
 */
final class GeoipMatch {
    /**
     * Connection notes set by ident/geoip at connect. Keys of the same name and type are equal to that bundle's, so
     * these find what it stored.
     */
    static final NoteKey<String> COUNTRY = NoteKey.of("geoip_country", String.class);
    static final NoteKey<String> COUNTRY_NAME = NoteKey.of("geoip_country_name", String.class);

    private final List<String> countries;

    private GeoipMatch(List<String> countries) {
        this.countries = countries;
    }

    /** The countries of the option, comma-separated; empty when the option is off (empty or 0). */
    static Optional<GeoipMatch> of(String option) {
        if (!PluginConventions.perlTrue(option)) {
            return Optional.empty();
        }
        return Optional.of(new GeoipMatch(Arrays.stream(option.split(",")).map(String::strip).toList()));
    }

    /** Whether the client's country is one of the option's, with qpsmtpd's log lines. */
    boolean matches(HookContext ctx) {
        Optional<String> country = ctx.session().notes().get(COUNTRY).filter(code -> !code.isEmpty());
        String name = ctx.session().notes().get(COUNTRY_NAME).orElse("");
        if (country.isEmpty()) {
            ctx.log(LogLevel.NOTICE, "skip: no geoip country");
            return false;
        }
        String code = country.get().toLowerCase(Locale.ROOT);
        for (String listed : countries) {
            if (listed.toLowerCase(Locale.ROOT).equals(code)) {
                ctx.log(LogLevel.INFO, "pass: geoip country match (" + listed + ", " + name + ")");
                return true;
            }
        }
        ctx.log(LogLevel.INFO, "skip: no geoip match (" + name + ")");
        return false;
    }
}
