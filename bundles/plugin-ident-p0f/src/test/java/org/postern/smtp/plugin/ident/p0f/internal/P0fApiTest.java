package org.postern.smtp.plugin.ident.p0f.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The API's octets, written out by hand for a little-endian host (x86-64, arm64): the byte order p0f uses there. */
class P0fApiTest {
    private static final HexFormat HEX = HexFormat.of();

    @BeforeEach
    void littleEndianHost() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the octets below are those of a little-endian host");
    }

    /** An answer as p0f 3.09b writes its struct p0f_api_response (packed, 232 octets). */
    static byte[] answer(String magic, String status, String distance, String osName, String osFlavor, String linkType) {
        return HEX.parseHex(magic + status
                + "5ec01b6b" // first_seen 1796980830
                + "60c01b6b" // last_seen 1796980832
                + "03000000" // total_conn 3
                + "10270000" // uptime_min 10000
                + "31000000" // up_mod_days 49
                + "00000000" // last_nat
                + "ffffffff" // last_chg 4294967295: unsigned
                + distance
                + "01" // bad_sw
                + "02" // os_match_q
                + text(osName) + text(osFlavor) + text("") + text("") + text(linkType) + text("English"));
    }

    private static String text(String value) {
        byte[] field = new byte[32];
        byte[] octets = value.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(octets, 0, field, 0, octets.length);
        return HEX.formatHex(field);
    }

    static final String MAGIC = "02463050";
    static final String OK = "10000000";

    @Test
    void anIpv4QueryIsTheMagicInHostOrderType4AndTheAddressLeftAligned() throws Exception {
        byte[] query = P0fApi.query(InetAddress.getByName("192.0.2.1"));

        assertEquals("01463050" + "04" + "c0000201" + "000000000000000000000000", HEX.formatHex(query));
        assertEquals(P0fApi.QUERY_LENGTH, query.length);
    }

    @Test
    void anIpv6QueryIsType6AndTheSixteenOctetsInNetworkOrder() throws Exception {
        byte[] query = P0fApi.query(InetAddress.getByName("2001:db8::25"));

        assertEquals("01463050" + "06" + "20010db8000000000000000000000025", HEX.formatHex(query));
    }

    @Test
    void anIpv4MappedIpv6ClientIsAskedAboutAsIpv4AsP0fSawItsPackets() throws Exception {
        byte[] query = P0fApi.query(InetAddress.getByName("::ffff:198.51.100.7"));

        assertArrayEquals(HEX.parseHex("01463050" + "04" + "c6336407" + "000000000000000000000000"), query);
    }

    @Test
    void everyFieldIsReadAtItsPlace() {
        P0fAnswer answer = P0fApi.answer(answer(MAGIC, OK, "0c00", "Linux", "3.11 and newer", "Ethernet or modem"));

        assertEquals(new P0fAnswer(0x50304602L, 0x10, 1796980830L, 1796980832L, 3, 10000, 49, 0, 4294967295L, 12, 1, 2,
                "Linux", "3.11 and newer", "", "", "Ethernet or modem", "English"), answer);
    }

    @Test
    void theDistanceIsSignedMinusOneMeaningNoData() {
        assertEquals(-1, P0fApi.answer(answer(MAGIC, OK, "ffff", "Linux", "", "")).distance());
    }

    @Test
    void aTextFieldEndsAtItsFirstNulWhateverFollows() {
        byte[] octets = answer(MAGIC, OK, "0000", "Windows", "7 or 8", "");
        octets[40 + "Windows".length() + 1] = (byte) 'X'; // os_name starts at octet 40

        assertEquals("Windows", P0fApi.answer(octets).osName());
    }

    @Test
    void magicAndStatusAreReadAsTheyAreForTheCallerToJudge() {
        P0fAnswer answer = P0fApi.answer(answer("01463050", "20000000", "0000", "", "", ""));

        assertEquals(P0fApi.QUERY_MAGIC, answer.magic());
        assertEquals(P0fApi.STATUS_NO_MATCH, answer.status());
    }

    @Test
    void anAnswerOfAnotherLengthIsNotRead() {
        assertThrows(IllegalArgumentException.class, () -> P0fApi.answer(new byte[P0fApi.ANSWER_LENGTH - 1]));
    }

    @Test
    void theNoteHasQpsmtpdsLabelsInOrderThenP0f2sGenreLinkAndUptime() {
        Map<String, Object> note = P0fApi.answer(answer(MAGIC, OK, "0c00", "Linux", "3.11 and newer", "DSL")).note();

        List<String> labels = new ArrayList<>(P0fAnswer.LABELS);
        labels.addAll(List.of("genre", "link", "uptime"));
        assertEquals(labels, List.copyOf(note.keySet()));
        assertEquals("Linux 3.11 and newer", note.get("genre"));
        assertEquals("DSL", note.get("link"));
        assertEquals(10000L, note.get("uptime"));
        assertEquals(12L, note.get("distance"));
        assertEquals(1796980830L, note.get("first_seen"));
        assertEquals("English", note.get("language"));
    }

    @Test
    void withoutAnOsNameTheNoteHasNoGenreLinkOrUptimeAsInQpsmtpd() {
        P0fAnswer answer = P0fApi.answer(answer(MAGIC, OK, "0000", "", "", "DSL"));

        assertEquals(Optional.empty(), answer.genre());
        assertEquals(P0fAnswer.LABELS, List.copyOf(answer.note().keySet()));
    }

    @Test
    void anUnknownLinkAndUptimeAreLeftOutOfTheNote() {
        byte[] octets = answer(MAGIC, OK, "0000", "Linux", "2.2.x-3.x", "");
        octets[20] = 0; // uptime_min, octets 20 to 23, was 10000
        octets[21] = 0;

        Map<String, Object> note = P0fApi.answer(octets).note();

        assertEquals("Linux 2.2.x-3.x", note.get("genre"));
        assertEquals(List.of(false, false), List.of(note.containsKey("link"), note.containsKey("uptime")));
    }
}
