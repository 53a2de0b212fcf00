package org.postern.smtp.plugin.ident.geoip.internal;

import com.maxmind.db.Metadata;
import com.maxmind.db.Reader;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first of the known database files in {@code db_dir} that exists, memory-mapped, and opened anew when another
 * file takes its place or it changes, as qpsmtpd reopens its database after an update. Looking at the files costs a
 * stat or two per connection; opening one a few milliseconds, only when it changed.
 */
final class GeoDatabase {
    /** City databases first, since only they give the city and the distance; then country ones. */
    static final List<String> FILE_NAMES = List.of("GeoIP2-City.mmdb", "GeoLite2-City.mmdb", "dbip-city-lite.mmdb",
            "GeoIP2-Country.mmdb", "GeoLite2-Country.mmdb", "dbip-country-lite.mmdb");
    private static final Logger LOG = LoggerFactory.getLogger(GeoDatabase.class);

    /** A file as the file system describes it; another description means another file or new content. */
    private record Version(Path path, FileTime modified, long size, Object fileKey) {
    }

    /** One opened database file, and where the server itself is in it when {@code distance} names its address. */
    record Opened(Path path, Reader reader, Optional<Location> home) {
        Optional<Location> locate(InetAddress address) throws IOException {
            return Optional.ofNullable(reader.get(address, Map.class)).map(Location::of);
        }
    }

    /** The file last seen in db_dir, and the database in use: that file's, or an older one's if it would not open. */
    private record State(Optional<Version> seen, Optional<Opened> opened) {
    }

    private final List<Path> candidates;
    private final Optional<InetAddress> homeAddress;
    private volatile State state;

    GeoDatabase(Path directory, Optional<InetAddress> homeAddress) {
        this.candidates = FILE_NAMES.stream().map(directory::resolve).toList();
        this.homeAddress = homeAddress;
        this.state = load(newest(), Optional.empty());
    }

    /** The database to look in now; empty when there is none. */
    Optional<Opened> current() {
        Optional<Version> version = newest();
        State known = state;
        if (known.seen().equals(version)) {
            return known.opened();
        }
        synchronized (this) {
            if (!state.seen().equals(version)) {
                state = load(version, state.opened());
            }
            return state.opened();
        }
    }

    private Optional<Version> newest() {
        for (Path candidate : candidates) {
            try {
                BasicFileAttributes file = Files.readAttributes(candidate, BasicFileAttributes.class);
                if (file.isRegularFile()) {
                    return Optional.of(new Version(candidate, file.lastModifiedTime(), file.size(), file.fileKey()));
                }
            } catch (IOException absent) {
                // the next name may be there
            }
        }
        return Optional.empty();
    }

    /**
     * Opens the file seen. A database replaced is not closed: closing only drops the reader's buffer, which lookups
     * under way on other threads still read, and the mapping goes with the last of them.
     */
    private State load(Optional<Version> seen, Optional<Opened> previous) {
        if (seen.isEmpty()) {
            LOG.error("ident/geoip: no database, none of these files exists: {}", candidates);
            return new State(seen, Optional.empty());
        }
        Path path = seen.get().path();
        try {
            Reader reader = new Reader(path.toFile());
            Metadata metadata = reader.getMetadata();
            LOG.info("ident/geoip: using {} ({}, built {})", path, metadata.getDatabaseType(), metadata.getBuildDate().toInstant());
            return new State(seen, Optional.of(new Opened(path, reader, home(reader, path))));
        } catch (IOException | RuntimeException unreadable) {
            // a half-written file is tried again once it changes again
            LOG.error("ident/geoip: cannot read {}: {}; {}", path, unreadable.toString(),
                    previous.map(opened -> "still using " + opened.path()).orElse("no database in use"));
            return new State(seen, previous);
        }
    }

    private Optional<Location> home(Reader reader, Path path) throws IOException {
        if (homeAddress.isEmpty()) {
            return Optional.empty();
        }
        Optional<Location> home = Optional.ofNullable(reader.get(homeAddress.get(), Map.class)).map(Location::of);
        if (home.isEmpty()) {
            LOG.error("ident/geoip: no record for my location {} (distance) in {}", homeAddress.get().getHostAddress(), path);
        } else if (home.get().coordinates().isEmpty()) {
            LOG.info("ident/geoip: could not get my lat/lon: {} has none for {}", path, homeAddress.get().getHostAddress());
        }
        return home;
    }
}
