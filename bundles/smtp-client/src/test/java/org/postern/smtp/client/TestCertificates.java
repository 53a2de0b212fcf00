package org.postern.smtp.client;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** Self-signed server certificates made with the JDK's keytool, for the TLS tests. */
final class TestCertificates {
    private static final char[] PASSWORD = "changeit".toCharArray();

    final Path keystore;
    /** The certificate in PEM, to trust it. */
    final Path pem;

    private TestCertificates(Path keystore, Path pem) {
        this.keystore = keystore;
        this.pem = pem;
    }

    /** A self-signed certificate for {@code host} (DNS name and, for localhost, 127.0.0.1). */
    static TestCertificates forHost(Path folder, String host) throws Exception {
        Path keystore = folder.resolve(host + ".p12");
        Path pem = folder.resolve(host + ".pem");
        String keytool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool").toString();
        run(List.of(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + host,
                "-ext", "SAN=dns:" + host + (host.equals("localhost") ? ",ip:127.0.0.1" : ""), "-validity", "2",
                "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", new String(PASSWORD)));
        run(List.of(keytool, "-exportcert", "-rfc", "-alias", "server", "-keystore", keystore.toString(), "-storepass",
                new String(PASSWORD), "-file", pem.toString()));
        return new TestCertificates(keystore, pem);
    }

    SSLContext serverContext() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }

    private static void run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException(command + " failed: " + output);
        }
    }
}
