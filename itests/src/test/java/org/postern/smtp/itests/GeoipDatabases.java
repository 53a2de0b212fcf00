package org.postern.smtp.itests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * GeoIP2 databases for the tests, written by MaxMind's own writer, MaxMind::DB::Writer::Tree (Debian's
 * libmaxmind-db-writer-perl), with records of GeoLite2's City schema (a Country database is the same without city
 * and location).
 */
final class GeoipDatabases {
    private static final String WRITER = """
            use MaxMind::DB::Writer::Tree;
            my ($file, $type, @networks) = @ARGV;
            my %%types = (continent => 'map', country => 'map', city => 'map', location => 'map', names => 'map',
                code => 'utf8_string', iso_code => 'utf8_string', en => 'utf8_string',
                latitude => 'double', longitude => 'double');
            my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 28, database_type => $type,
                languages => ['en'], description => { en => 'Postern test data' }, remove_reserved_networks => 0,
                map_key_type_callback => sub { $types{$_[0]} });
            %s
            open my $out, '>:raw', $file or die "$file: $!";
            $tree->write_tree($out);
            close $out or die "$file: $!";
            """;

    private GeoipDatabases() {
    }

    /**
     * Writes {@code <type>.mmdb} (e.g. GeoLite2-City) into the folder, renamed into place as geoipupdate does; the
     * records are Perl statements on {@code $tree}, e.g. {@code $tree->insert_network('127.0.0.0/8', {...});}.
     */
    static void write(Path folder, String type, String records) throws Exception {
        Path written = Files.createTempFile(folder, "writing", ".tmp");
        DistributionIT.run(0, "perl", "-e", WRITER.formatted(records), written.toString(), type);
        Files.move(written, folder.resolve(type + ".mmdb"), StandardCopyOption.ATOMIC_MOVE);
    }
}
