package org.postern.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostsFileTest {
    @TempDir
    Path folder;

    @Test
    void eachAddressGetsTheFirstNameOfItsFirstLine() throws Exception {
        Path hosts = folder.resolve("hosts");
        Files.writeString(hosts, "# comment\n127.0.0.1 localhost vm\n127.0.0.1 other\n::1 ip6-localhost ip6-loopback\n"
                + "192.0.2.5\tMail.Example.org mail # trailing comment\nnot-an-address name\n\n");
        assertEquals(Map.of(InetAddress.getByName("127.0.0.1"), "localhost", InetAddress.getByName("::1"), "ip6-localhost",
                InetAddress.getByName("192.0.2.5"), "mail.example.org"), HostsFile.canonicalNames(hosts));
        assertEquals(Map.of(), HostsFile.canonicalNames(folder.resolve("missing")));
    }
}
