//! `/ows`: the combined WMS + WFS endpoint dispatches on SERVICE (or on
//! REQUEST when SERVICE is missing) and answers exactly like `/wms` and
//! `/wfs`.

mod common;

use geoplan::config::Config;

async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("curl")
            .args(["-s", "-D", "-", "-o", "-", &url])
            .output()
            .expect("curl runs");
        let all = out.stdout;
        let split = all
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("headers end");
        let head = String::from_utf8_lossy(&all[..split]).into_owned();
        let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, head, all[split + 4..].to_vec())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ows_answers_like_wms_and_wfs_and_names_a_missing_service() {
    let (addr, s) = common::serve_sample(Config::default()).await;
    let base = format!("http://{addr}");
    for (ows, own) in [
        ("SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0", "/wms"),
        ("service=wfs&request=GetCapabilities&version=2.0.0", "/wfs"),
        ("REQUEST=GetFeature&SERVICE=WFS&VERSION=2.0.0&TYPENAMES=geoplan:parcels&RESULTTYPE=hits", "/wfs"),
        ("SERVICE=WFS&VERSION=1.1.0&REQUEST=DescribeFeatureType&TYPENAME=geoplan:roads", "/wfs"),
    ] {
        let a = fetch(&format!("{base}/ows?{ows}")).await;
        let b = fetch(&format!("{base}{own}?{ows}")).await;
        assert_eq!(a.0, 200, "{ows}: {}", String::from_utf8_lossy(&a.2));
        // Time stamps differ between two answers; compare without them.
        let strip = |v: &[u8]| {
            let t = String::from_utf8_lossy(v).into_owned();
            t.split("timeStamp=\"")
                .enumerate()
                .map(|(i, p)| if i == 0 { p } else { p.split_once('"').map_or(p, |x| x.1) })
                .collect::<String>()
        };
        assert_eq!(strip(&a.2), strip(&b.2), "{ows}: /ows and {own} differ");
    }
    // hits through /ows is the engine's count.
    let (_, _, body) = fetch(&format!(
        "{base}/ows?REQUEST=GetFeature&SERVICE=WFS&VERSION=2.0.0&TYPENAMES=geoplan:parcels&RESULTTYPE=hits"
    ))
    .await;
    let n = s.data.engine.snapshot().layer("parcels").unwrap().len();
    assert!(
        String::from_utf8_lossy(&body).contains(&format!("numberMatched=\"{n}\"")),
        "{}",
        String::from_utf8_lossy(&body)
    );
    // A map without SERVICE goes to WMS (by its REQUEST).
    let (st, head, png) = fetch(&format!(
        "{base}/ows?REQUEST=GetMap&VERSION=1.3.0&LAYERS=admin_units&STYLES=&CRS=EPSG:3857&BBOX=12000000,1650000,12200000,1850000&WIDTH=64&HEIGHT=64&FORMAT=image/png"
    ))
    .await;
    assert_eq!(st, 200, "{head}");
    assert!(png.starts_with(b"\x89PNG"), "{head}");
    // No service and a request both have: 400 naming SERVICE; unknown
    // services are named too.
    for (q, word) in [
        ("REQUEST=GetCapabilities", "MissingParameterValue"),
        ("SERVICE=WCS&REQUEST=GetCapabilities", "WCS"),
    ] {
        let (st, _, body) = fetch(&format!("{base}/ows?{q}")).await;
        assert_eq!(st, 400, "{q}");
        assert!(String::from_utf8_lossy(&body).contains(word), "{q}");
    }
}
