// OkHttp (Android's HTTP client; Debian's libokhttp-java) sending POSTs through one client's
// connection pool, with the gaps in SPACINGS (ms). Prints "ok N" after N answers of 200; a
// failure throws. Run as a single-file program: java -cp okhttp.jar:okio.jar OkHttpPosts.java
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

public class OkHttpPosts {
    public static void main(String[] args) throws Exception {
        OkHttpClient client = new OkHttpClient();
        MediaType json = MediaType.parse("application/json");
        String url = System.getenv("URL") + "/v1/photos/missing";
        int n = 0;
        for (String gap : System.getenv("SPACINGS").trim().split("\\s+")) {
            Thread.sleep(Long.parseLong(gap));
            Request request = new Request.Builder()
                .url(url)
                .header("Authorization", "Bearer " + System.getenv("TOKEN"))
                .post(RequestBody.create(json, "{\"hashes\":[]}"))
                .build();
            try (Response response = client.newCall(request).execute()) {
                response.body().string();
                if (response.code() != 200) throw new IllegalStateException("status " + response.code());
            }
            n++;
        }
        System.out.println("ok " + n);
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }
}
