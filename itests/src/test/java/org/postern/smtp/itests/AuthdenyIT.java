package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * authdeny after auth_checkpassword, side by side with qpsmtpd 0.94's two plugins in the same order: authdeny answers
 * what auth_checkpassword left undecided (CRAM-MD5, which it cannot check, and a program's "misused" status), and
 * makes EHLO offer every mechanism.
 */
public class AuthdenyIT {
    @ClassRule
    public static final ServerGroup SERVERS = new ServerGroup();
    private static ServerProcess qpsmtpd;
    private static ServerProcess postern;

    @BeforeClass
    public static void startServers() throws Exception {
        Path checkpw = AuthCheckpasswordIT.checkpassword();
        qpsmtpd = SERVERS.add(ServerProcess.qpsmtpdWithPlugins(List.of("localhost"), Map.of(),
                "auth/auth_checkpassword checkpw " + checkpw + " true /bin/true", "auth/authdeny"));
        postern = SERVERS.add(AuthCheckpasswordIT.postern("authdeny", "checkpw = " + checkpw, "plugin-authdeny").awaitPlugin("authdeny"));
    }

    @Test
    public void undecidedAttemptsGet535AsFromQpsmtpdWithTheReasonInTheLogOnly() throws Exception {
        List<String> reference = AuthCheckpasswordIT.ehloAndPlain(qpsmtpd, "misused@example.org", "x");
        assertEquals(List.of("CRAM-MD5 LOGIN PLAIN",
                "535 PLAIN authentication failed for misused@example.org - misused@example.org is not free to abuse my relay"), reference);
        assertEquals(List.of("CRAM-MD5 LOGIN PLAIN", "535 PLAIN authentication failed for misused@example.org"),
                AuthCheckpasswordIT.ehloAndPlain(postern, "misused@example.org", "x"));
        assertTrue(postern.log(), postern.log().contains("fail: cannot authenticate; misused@example.org is not free to abuse my relay"));
    }

    @Test
    public void cramMd5IsOfferedAndRefusedAndAGoodPasswordStillLogsIn() throws Exception {
        String output = AuthCheckpasswordIT.swaks(28, postern, "CRAM-MD5", AuthCheckpasswordIT.USER, AuthCheckpasswordIT.PASSWORD);
        assertTrue(output, output.contains("<** 535 5.7.8 CRAM-MD5 authentication failed for " + AuthCheckpasswordIT.USER + "\n"));
        output = AuthCheckpasswordIT.swaks(28, qpsmtpd, "CRAM-MD5", AuthCheckpasswordIT.USER, AuthCheckpasswordIT.PASSWORD);
        assertTrue(output, output.contains("<** 535 CRAM-MD5 authentication failed for " + AuthCheckpasswordIT.USER
                + " - " + AuthCheckpasswordIT.USER + " is not free to abuse my relay"));
        for (ServerProcess server : List.of(qpsmtpd, postern)) {
            assertTrue(AuthCheckpasswordIT.swaks(0, server, "PLAIN", AuthCheckpasswordIT.USER, AuthCheckpasswordIT.PASSWORD)
                    .contains("<-  235 "));
        }
    }
}
