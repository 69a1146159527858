// Copyright OpenDcc contributors. Licensed under the Apache License, Version 2.0.
//
// Keeps one JVM running the DCC Boxed signing tool (the @smartdcc/duis-sign-wrap tool.jar, installed at test time
// and never committed) so the interop tests pay the JVM start once, not once per message. Each request calls the
// tool's own entry point, Sign.main_aux or Validate.main_aux, with the same arguments its command line takes
// ("-" = read the message from stdin), and returns what the command line would have printed and exited with.
//
// Run: java -cp tool.jar DuisToolHost.java   (source-file mode; the JRE's jdk.compiler module compiles it)
//
// Protocol on stdin/stdout, one request at a time:
//   request:  "<Sign|Validate> <byte length> [tool option …]\n" followed by the message bytes (UTF-8)
//   response: "<exit code> <stdout byte length> <stderr byte length>\n" followed by the stdout then stderr bytes
// Some tool failures (a message that is not XML, say) end in System.exit(code), as on the command line. Then a
// shutdown hook answers "EXIT <stdout byte length> <stderr byte length>\n" and the bytes, and the host's own exit
// code is the tool's; the caller starts a new host for the next request.

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import uk.co.smartdcc.boxed.xmldsig.ResultCode;
import uk.co.smartdcc.boxed.xmldsig.Sign;
import uk.co.smartdcc.boxed.xmldsig.Validate;

public final class DuisToolHost {
    private static final OutputStream responses = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
    private static volatile ByteArrayOutputStream currentOut;
    private static volatile ByteArrayOutputStream currentErr;

    private DuisToolHost() {
    }

    public static void main(String[] args) throws IOException {
        InputStream requests = new BufferedInputStream(new FileInputStream(FileDescriptor.in));
        Runtime.getRuntime().addShutdownHook(new Thread(DuisToolHost::answerExit));
        String header;
        while ((header = readLine(requests)) != null) {
            String[] fields = header.split(" ");
            byte[] message = requests.readNBytes(Integer.parseInt(fields[1]));
            List<String> toolArgs = new ArrayList<>();
            toolArgs.add("-");
            toolArgs.addAll(Arrays.asList(fields).subList(2, fields.length));

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            currentOut = out;
            currentErr = err;
            PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
            System.setIn(new ByteArrayInputStream(message));
            System.setOut(outStream);
            System.setErr(errStream);
            int code;
            try {
                ResultCode result = switch (fields[0]) {
                    case "Sign" -> Sign.main_aux(toolArgs.toArray(new String[0]));
                    case "Validate" -> Validate.main_aux(toolArgs.toArray(new String[0]));
                    default -> throw new IllegalArgumentException("unknown tool '" + fields[0] + "'");
                };
                code = result.value();
            } catch (Throwable e) {
                // What the command line does with an uncaught exception: a stack trace and exit code 1.
                e.printStackTrace(errStream);
                code = 1;
            }
            currentOut = null;
            currentErr = null;
            answer(Integer.toString(code), out, err);
        }
    }

    /** The tool called System.exit in the middle of a request: answer it before the JVM goes. */
    private static void answerExit() {
        ByteArrayOutputStream out = currentOut;
        ByteArrayOutputStream err = currentErr;
        if (out != null && err != null) {
            try {
                answer("EXIT", out, err);
            } catch (IOException e) {
                // the caller has gone; nothing to answer
            }
        }
    }

    private static void answer(String status, ByteArrayOutputStream out, ByteArrayOutputStream err) throws IOException {
        byte[] outBytes = out.toByteArray();
        byte[] errBytes = err.toByteArray();
        responses.write((status + " " + outBytes.length + " " + errBytes.length + "\n").getBytes(StandardCharsets.US_ASCII));
        responses.write(outBytes);
        responses.write(errBytes);
        responses.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
