package org.postern.smtp.plugin.ident.geoip.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.plugin.ident.geoip.internal.Location.Coordinates;

class LocationTest {
    /** qpsmtpd's set_distance_gc, for points given as "lat0 lon0 lat1 lon1" lines on standard input. */
    private static final String QPSMTPD_DISTANCE = """
            use Math::Trig qw(great_circle_distance deg2rad);
            sub NESW { deg2rad($_[0]), deg2rad(90 - $_[1]) }
            while (<STDIN>) {
                my ($lat0, $lon0, $lat1, $lon1) = split;
                my $km = great_circle_distance(NESW($lon0, $lat0), NESW($lon1, $lat1), 6378);
                printf("%.0f\\n", $km);
            }
            """;
    /** mmdblookup's way of printing a string or a double it found. */
    private static final Pattern MMDBLOOKUP_VALUE = Pattern.compile("^\\s*(?:\"(.*)\" <utf8_string>|(\\S+) <double>)", Pattern.MULTILINE);

    @TempDir
    Path dbDir;

    @Test
    void distancesAreQpsmtpdsToTheKilometre() throws Exception {
        Random random = new Random(4);
        List<double[]> pairs = new ArrayList<>(List.of(new double[] {48.8566, 2.3522, 43.6532, -79.3832},
                new double[] {0, 0, 0, 180}, new double[] {10, 20, 10, 20}, new double[] {90, 0, -90, 0}));
        for (int i = 0; i < 500; i++) {
            pairs.add(new double[] {random.nextDouble() * 180 - 90, random.nextDouble() * 360 - 180,
                    random.nextDouble() * 180 - 90, random.nextDouble() * 360 - 180});
        }
        StringBuilder input = new StringBuilder();
        List<String> ours = new ArrayList<>();
        for (double[] pair : pairs) {
            input.append(String.format(Locale.ROOT, "%.4f %.4f %.4f %.4f%n", pair[0], pair[1], pair[2], pair[3]));
            // the points as Perl reads them back from four decimals
            Coordinates from = new Coordinates(round4(pair[0]), round4(pair[1]));
            ours.add(Integer.toString(from.kilometresTo(new Coordinates(round4(pair[2]), round4(pair[3])))));
        }
        assertEquals(List.of("6007", "20037", "0", "20037"), ours.subList(0, 4));
        assertEquals(run(input.toString(), "perl", "-e", QPSMTPD_DISTANCE).lines().toList(), ours);
    }

    private static double round4(double degrees) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.4f", degrees));
    }

    @Test
    void recordsReadAsLibmaxminddbsMmdblookupReadsThem() throws Exception {
        Path file = TestDatabases.write(dbDir.resolve("GeoLite2-City.mmdb"), "GeoLite2-City", TestDatabases.CITIES);
        GeoDatabase database = new GeoDatabase(dbDir, Optional.empty());
        for (String address : List.of("192.0.2.77", "198.51.100.1", "2001:db8:1::1", "203.0.113.200", "198.19.4.4")) {
            Location location = database.current().orElseThrow().locate(InetAddress.getByName(address)).orElseThrow();
            assertEquals(mmdblookup(file, address, "country", "iso_code"), location.countryCode(), address);
            assertEquals(mmdblookup(file, address, "country", "names", "en"), location.countryName(), address);
            assertEquals(mmdblookup(file, address, "continent", "code"), location.continentCode(), address);
            assertEquals(mmdblookup(file, address, "city", "names", "en"), location.city(), address);
            assertEquals(mmdblookup(file, address, "location", "latitude").map(Double::valueOf),
                    location.coordinates().map(Coordinates::latitude), address);
            assertEquals(mmdblookup(file, address, "location", "longitude").map(Double::valueOf),
                    location.coordinates().map(Coordinates::longitude), address);
        }
    }

    /** The value at this path of the address's record, as libmaxminddb's mmdblookup (Debian's mmdb-bin) prints it. */
    private static Optional<String> mmdblookup(Path file, String address, String... path) throws Exception {
        List<String> command = new ArrayList<>(List.of("mmdblookup", "--file", file.toString(), "--ip", address));
        command.addAll(List.of(path));
        Matcher value = MMDBLOOKUP_VALUE.matcher(run("", command.toArray(String[]::new)));
        return value.find() ? Optional.of(value.group(1) != null ? value.group(1) : value.group(2)) : Optional.empty();
    }

    private static String run(String input, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var stdin = process.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        return output;
    }
}
