package org.postern.smtp.plugin.ident.geoip.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postern.smtp.api.ConnectHook;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.NoteKey;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.PluginConventions;
import org.postern.smtp.api.propertytypes.HookOrder;
import org.postern.smtp.api.propertytypes.PosternHook;
import org.postern.smtp.api.propertytypes.PosternPlugin;
import org.postern.smtp.plugin.ident.geoip.internal.GeoDatabase.Opened;
import org.postern.smtp.plugin.ident.geoip.internal.Location.Coordinates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * qpsmtpd's {@code ident/geoip}: looks the client's address up in a MaxMind (or DB-IP) database at connect and notes
 * its country, continent and city and, given the server's own address, its distance, for other plugins to decide
 * on; a client farther than {@code too_far} loses a point of karma. Never refuses anyone.
 */
@Component(service = ConnectHook.class, configurationPid = IdentGeoip.PID)
@Designate(ocd = IdentGeoip.Config.class)
@PosternPlugin("ident/geoip")
@PosternHook("connect")
@HookOrder(85)
public final class IdentGeoip implements ConnectHook {
    static final String PID = "org.postern.smtp.plugin.ident.geoip";
    static final String DEFAULT_DB_DIR = "/usr/local/share/GeoIP";

    /** Connection note: the client's country, ISO 3166 two-letter code. */
    public static final NoteKey<String> COUNTRY = NoteKey.of("geoip_country", String.class);
    /** Connection note: the client's country, English name. */
    public static final NoteKey<String> COUNTRY_NAME = NoteKey.of("geoip_country_name", String.class);
    /** Connection note: the client's continent, two-letter code (NA, EU, AS, …). */
    public static final NoteKey<String> CONTINENT = NoteKey.of("geoip_continent", String.class);
    /** Connection note: the client's city, English name. */
    public static final NoteKey<String> CITY = NoteKey.of("geoip_city", String.class);
    /** Connection note: kilometres from the server (the address {@code distance} names) to the client. */
    public static final NoteKey<Integer> DISTANCE = NoteKey.of("geoip_distance", Integer.class);

    private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    /** A literal address, which InetAddress parses without asking the DNS (which it asks for anything else). */
    private static final Pattern IP_LITERAL = Pattern.compile(OCTET + "(\\." + OCTET + "){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");
    private static final Logger LOG = LoggerFactory.getLogger(IdentGeoip.class);

    @ObjectClassDefinition(name = "Postern plugin: ident/geoip",
            description = "Notes the client's country, continent, city and distance from a GeoIP2/GeoLite2 database")
    public @interface Config {
        @AttributeDefinition(description = "The server's own public IP address, to compute each client's distance "
                + "from; empty: no distance")
        String distance() default "";

        @AttributeDefinition(name = "too_far", description = "Clients farther than this many km lose a point of "
                + "karma; 0: none do")
        int too__far() default 0;

        @AttributeDefinition(name = "db_dir", description = "The folder of the database: GeoIP2-City.mmdb, "
                + "GeoLite2-City.mmdb, dbip-city-lite.mmdb, or a country database of the same names, the first found")
        String db__dir() default DEFAULT_DB_DIR;
    }

    private final GeoDatabase database;
    private final int tooFar;

    @Activate
    public IdentGeoip(Config config) {
        this.database = new GeoDatabase(Path.of(config.db__dir()), homeAddress(config.distance()));
        this.tooFar = config.too__far();
    }

    private static Optional<InetAddress> homeAddress(String distance) {
        String address = distance.strip();
        if (address.isEmpty()) {
            return Optional.empty();
        }
        if (IP_LITERAL.matcher(address).matches()) {
            try {
                return Optional.of(InetAddress.getByName(address));
            } catch (UnknownHostException malformed) {
                // an IPv6 look-alike such as 1:2, logged below
            }
        }
        LOG.error("configuration {}: key 'distance': {} is not an IP address; no distances", PID, address);
        return Optional.empty();
    }

    @Override
    public HookResult onConnect(HookContext ctx) {
        // a database missing or unreadable was logged at ERROR when it was found so
        Optional<Opened> opened = database.current();
        if (opened.isEmpty()) {
            return HookResult.declined();
        }
        Optional<Location> found;
        try {
            found = opened.get().locate(ctx.session().remoteAddress().getAddress())
                    .filter(location -> location.countryCode().isPresent());
        } catch (IOException | RuntimeException corrupt) {
            // a damaged database must not cost the client its connection, which the core refuses when a hook throws
            ctx.log(LogLevel.ERROR, "skip, lookup failed in " + opened.get().path() + ": " + corrupt);
            return HookResult.declined();
        }
        if (found.isEmpty()) {
            ctx.log(LogLevel.INFO, "skip, no results");
            return HookResult.declined();
        }
        Location client = found.get();
        Notes notes = ctx.session().notes();
        notes.put(COUNTRY, client.countryCode().get());
        client.countryName().ifPresent(name -> notes.put(COUNTRY_NAME, name));
        client.continentCode().ifPresent(continent -> notes.put(CONTINENT, continent));
        client.city().ifPresent(city -> notes.put(CITY, city));

        List<String> parts = new ArrayList<>();
        client.continentCode().ifPresent(parts::add);
        parts.add(client.countryCode().get());
        client.city().ifPresent(parts::add);
        Optional<Integer> distance = distance(ctx, opened.get().home(), client);
        distance.ifPresent(km -> notes.put(DISTANCE, km));
        // as qpsmtpd, a distance of 0 is noted but not logged
        distance.filter(km -> km != 0).ifPresent(km -> parts.add("\t" + km + " km"));
        if (tooFar > 0 && distance.orElse(0) > tooFar) {
            PluginConventions.adjustKarma(ctx, -1);
        }
        ctx.log(LogLevel.INFO, String.join(", ", parts));
        return HookResult.declined();
    }

    private static Optional<Integer> distance(HookContext ctx, Optional<Location> home, Location client) {
        Optional<Coordinates> here = home.flatMap(Location::coordinates);
        if (here.isEmpty()) {
            return Optional.empty();
        }
        if (client.coordinates().isEmpty()) {
            ctx.log(LogLevel.NOTICE, "could not get sender lat/lon");
            return Optional.empty();
        }
        return Optional.of(here.get().kilometresTo(client.coordinates().get()));
    }
}
