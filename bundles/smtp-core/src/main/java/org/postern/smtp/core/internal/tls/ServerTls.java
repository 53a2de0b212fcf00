package org.postern.smtp.core.internal.tls;

import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS: one context per certificate, chosen per handshake by the name the client asks for (SNI,
 * RFC 6066), by the names each certificate is valid for; the first certificate answers everyone else. The files
 * are read again when they change ({@link #reloadIfChanged()}): handshakes from then on use the new
 * certificates, connections already encrypted keep theirs.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
    private static final int MAX_CLIENT_HELLO_LENGTH = 16 * 1024;

    /** What a file looked like when it was read: a renewal replaces it, or re-points its symbolic link. */
    private record FileStamp(Path realPath, long modifiedMillis, long size) {
        static FileStamp of(Path file) throws IOException {
            return new FileStamp(file.toRealPath(), Files.getLastModifiedTime(file).toMillis(), Files.size(file));
        }
    }

    private record Loaded(Mapping<String, SslContext> contexts, Map<Path, FileStamp> stamps, List<String> names) {
    }

    private final TlsSettings settings;
    private volatile Loaded loaded;

    private ServerTls(TlsSettings settings, Loaded loaded) {
        this.settings = settings;
        this.loaded = loaded;
    }

    /** Reads every certificate; a file that cannot be used refuses the whole configuration, naming the file. */
    public static ServerTls create(TlsSettings settings) {
        try {
            return new ServerTls(settings, load(settings));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS: " + e.getMessage());
        }
    }

    /** A handler that negotiates TLS as the first thing on a connection, picking the certificate by SNI. */
    public ChannelHandler newHandler() {
        Mapping<String, SslContext> byName = hostName -> loaded.contexts().map(hostName);
        return new SniHandler(byName, MAX_CLIENT_HELLO_LENGTH, settings.handshakeTimeout().toMillis());
    }

    /** The host names served, each with its certificate's source; for the log and administrators. */
    public List<String> describe() {
        return loaded.names();
    }

    /**
     * Reads the certificates again if any of their files changed. A change that cannot be used (a half-written
     * file, a key that does not match) is logged and the certificates in use stay.
     *
     * @return true when new certificates are in use
     */
    public boolean reloadIfChanged() {
        Loaded current = loaded;
        try {
            boolean changed = false;
            for (Map.Entry<Path, FileStamp> file : current.stamps().entrySet()) {
                changed |= !FileStamp.of(file.getKey()).equals(file.getValue());
            }
            if (!changed) {
                return false;
            }
            loaded = load(settings);
            LOG.info("TLS certificates reloaded: {}", loaded.names());
            return true;
        } catch (IOException | GeneralSecurityException e) {
            LOG.error("TLS certificates changed but cannot be used, the previous ones stay in use: {}", e.getMessage());
            return false;
        }
    }

    private static Loaded load(TlsSettings settings) throws IOException, GeneralSecurityException {
        Map<Path, FileStamp> stamps = new LinkedHashMap<>();
        List<ServerKey> keys = new ArrayList<>();
        for (CertificateFiles files : settings.certificates()) {
            keys.add(CertificateLoader.fromPem(files));
            List<Path> read = new ArrayList<>(List.of(files.certificate(), files.keyFile()));
            files.ca().ifPresent(read::add);
            for (Path file : read) {
                stamps.put(file, FileStamp.of(file));
            }
        }
        if (settings.keystore().isPresent()) {
            Path keystore = settings.keystore().get();
            keys.addAll(CertificateLoader.fromKeystore(keystore, settings.keystorePassword().toCharArray()));
            stamps.put(keystore, FileStamp.of(keystore));
        }
        DomainWildcardMappingBuilder<SslContext> mapping = null;
        Set<String> served = new LinkedHashSet<>();
        List<String> names = new ArrayList<>();
        for (ServerKey key : keys) {
            SslContext context = context(key, settings);
            if (mapping == null) {
                mapping = new DomainWildcardMappingBuilder<>(context);
            }
            for (String name : key.hostNames()) {
                if (served.add(name)) {
                    mapping.add(name, context);
                } else {
                    LOG.warn("TLS: {} also names {}; the certificate listed first serves it", key.source(), name);
                }
            }
            names.add(key.hostNames() + " from " + key.source() + ", valid until " + key.certificate().getNotAfter().toInstant());
            warnIfExpiring(key);
        }
        return new Loaded(mapping.build(), Map.copyOf(stamps), List.copyOf(names));
    }

    private static SslContext context(ServerKey key, TlsSettings settings) throws GeneralSecurityException {
        try {
            SslContext context = SslContextBuilder.forServer(key.key(), key.chain())
                    .sslProvider(SslProvider.JDK)
                    .protocols(settings.protocols())
                    .ciphers(settings.ciphers(), SupportedCipherSuiteFilter.INSTANCE)
                    .build();
            if (context.cipherSuites().isEmpty()) {
                throw new GeneralSecurityException("none of tls.ciphers " + settings.ciphers() + " is supported by this Java");
            }
            return context;
        } catch (SSLException | IllegalArgumentException e) {
            throw new GeneralSecurityException(key.source() + ": " + e.getMessage(), e);
        }
    }

    private static void warnIfExpiring(ServerKey key) {
        Instant notAfter = key.certificate().getNotAfter().toInstant();
        if (notAfter.isBefore(Instant.now().plus(14, ChronoUnit.DAYS))) {
            LOG.warn("TLS: the certificate from {} {} on {}", key.source(),
                    notAfter.isBefore(Instant.now()) ? "expired" : "expires", notAfter);
        }
    }
}
