package org.postern.smtp.itests;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * dkimpy (Debian's python3-dkim) through the engine's interop script, bundles/mail-auth/src/test/resources/dkimpy.py
 * (which lists its commands), and what its keys need: PEM for the private key, a dnsmasq option for the record.
 */
final class Dkimpy {
    private Dkimpy() {
    }

    static String run(String input, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3",
                Path.of(System.getProperty("postern.bundles"), "mail-auth/src/test/resources/dkimpy.py").toString()));
        command.addAll(List.of(arguments));
        return Programs.run(input, command.toArray(String[]::new));
    }

    /** A PKCS#8 private key in PEM, as dkimpy and the dkim plugin's key folder read it. */
    static String pem(byte[] pkcs8) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pkcs8) + "\n-----END PRIVATE KEY-----\n";
    }

    /** A TXT record for dnsmasq, in strings of at most 255 octets (RFC 1035 3.3), which resolvers join again. */
    static String txtRecord(String name, String record) {
        List<String> strings = new ArrayList<>();
        for (int start = 0; start < record.length(); start += 255) {
            strings.add(record.substring(start, Math.min(record.length(), start + 255)));
        }
        return "--txt-record=" + name + "," + String.join(",", strings);
    }
}
