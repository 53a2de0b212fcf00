package org.postern.smtp.plugin.ident.geoip.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * .mmdb files written by MaxMind's own writer, MaxMind::DB::Writer::Tree (Debian's libmaxmind-db-writer-perl), in
 * the GeoIP2 schema, from networks given as Perl: {@code '192.0.2.0/24' => { country => { iso_code => 'CA' } }}.
 */
final class TestDatabases {
    /** Toronto, Paris (the server), Sydney over IPv6; a record without a place, one without a country. */
    static final String CITIES = """
            '192.0.2.0/24' => { continent => { code => 'NA' }, country => { iso_code => 'CA', names => { en => 'Canada' } },
                city => { names => { en => 'Toronto' } }, location => { latitude => 43.6532, longitude => -79.3832 } },
            '198.51.100.0/24' => { continent => { code => 'EU' }, country => { iso_code => 'FR', names => { en => 'France' } },
                city => { names => { en => 'Paris' } }, location => { latitude => 48.8566, longitude => 2.3522 } },
            '2001:db8::/32' => { continent => { code => 'OC' }, country => { iso_code => 'AU', names => { en => 'Australia' } },
                city => { names => { en => 'Sydney' } }, location => { latitude => -33.8688, longitude => 151.2093 } },
            '203.0.113.0/24' => { continent => { code => 'AS' }, country => { iso_code => 'JP', names => { en => 'Japan' } } },
            '198.18.0.0/15' => { continent => { code => 'EU' } },
            """;
    /** A country database that places 192.0.2.0/24 elsewhere than {@link #CITIES}, to tell which one answered. */
    static final String COUNTRIES = """
            '192.0.2.0/24' => { continent => { code => 'NA' }, country => { iso_code => 'US', names => { en => 'United States' } } },
            """;

    private static final String WRITER = """
            use strict;
            use warnings;
            use MaxMind::DB::Writer::Tree;
            my ($type, $file) = @ARGV;
            my %%types = (continent => 'map', country => 'map', city => 'map', location => 'map', names => 'map',
                code => 'utf8_string', iso_code => 'utf8_string', en => 'utf8_string',
                latitude => 'double', longitude => 'double');
            my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 28, database_type => $type,
                languages => ['en'], description => { en => 'Postern test data' }, remove_reserved_networks => 0,
                map_key_type_callback => sub { $types{$_[0]} });
            my %%networks = (%s);
            $tree->insert_network($_, $networks{$_}) for sort keys %%networks;
            open my $out, '>:raw', $file or die "$file: $!";
            $tree->write_tree($out);
            close $out or die "$file: $!";
            """;

    private TestDatabases() {
    }

    /**
     * Writes the database beside {@code file} and renames it into place, as geoipupdate replaces a database, so a
     * reader never sees it half-written.
     */
    static Path write(Path file, String databaseType, String networks) throws IOException, InterruptedException {
        Path written = Files.createTempFile(file.getParent(), "writing", ".tmp");
        Process perl = new ProcessBuilder("perl", "-e", WRITER.formatted(networks), databaseType, written.toString())
                .redirectErrorStream(true).start();
        String output = new String(perl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (perl.waitFor() != 0) {
            throw new IOException("MaxMind::DB::Writer failed (apt-get install libmaxmind-db-writer-perl): " + output);
        }
        return Files.move(written, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
