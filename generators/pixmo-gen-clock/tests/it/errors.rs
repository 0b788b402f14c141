//! Bad inputs are `Err`, never a panic, and the messages follow the house style.

use pixmo_gen_clock::{ClockRenderer, ClockTime, Crop, FaceSpec, MAX_SIZE, RenderError, SceneSpec};

fn assert_style(e: &RenderError) {
    let msg = e.to_string();
    assert!(msg.chars().next().unwrap().is_uppercase(), "{msg}");
    assert!(!msg.ends_with('.'), "{msg}");
}

#[test]
fn invalid_sizes_are_errors() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(1);
    let time = ClockTime::sample(1);
    for size in [0, 1, MAX_SIZE + 1, u32::MAX] {
        let e = r.render_face(&face, time, size).unwrap_err();
        assert!(matches!(e, RenderError::InvalidSize { .. }), "{e}");
        assert_style(&e);
        let e = r.render(&face, time, &SceneSpec::none(size)).unwrap_err();
        assert!(matches!(e, RenderError::InvalidSize { .. }), "{e}");
    }
}

#[test]
fn invalid_times_are_errors() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(1);
    for (h, m, s) in [(24, 0, 0), (0, 60, 0), (0, 0, 60), (255, 255, 255)] {
        let time = ClockTime {
            hour: h,
            minute: m,
            second: s,
        };
        let e = r.render_face(&face, time, 64).unwrap_err();
        assert!(matches!(e, RenderError::InvalidTime { .. }), "{e}");
        assert_style(&e);
    }
}

#[test]
fn invalid_faces_are_errors() {
    let mut r = ClockRenderer::new();
    let time = ClockTime::sample(2);
    let mut face = FaceSpec::sample(2);
    face.body = 9999;
    let e = r.render_face(&face, time, 64).unwrap_err();
    assert!(matches!(e, RenderError::InvalidFace { .. }), "{e}");
    assert!(e.to_string().contains("9999"));
    assert_style(&e);
    let mut face = FaceSpec::sample(2);
    face.hands.minute_length = f32::NAN;
    assert!(r.render_face(&face, time, 64).is_err());
    let mut face = FaceSpec::sample(2);
    face.dial.brand = Some("X".repeat(500));
    assert!(r.render_face(&face, time, 64).is_err());
    // Text with markup characters is escaped, not an error.
    let mut face = FaceSpec::sample(2);
    face.dial.brand = Some("<A & B>\"'".to_owned());
    r.render_face(&face, time, 64).unwrap();
}

#[test]
fn invalid_scenes_are_errors() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(3);
    let time = ClockTime::sample(3);
    let base = SceneSpec::none(128);
    let bad: Vec<SceneSpec> = vec![
        SceneSpec {
            watch_scale: f32::NAN,
            ..base.clone()
        },
        SceneSpec {
            watch_scale: 100.0,
            ..base.clone()
        },
        SceneSpec {
            tilt_x_deg: 89.0,
            ..base.clone()
        },
        SceneSpec {
            crop: Some(Crop {
                x: 100,
                y: 0,
                width: 100,
                height: 100,
            }),
            ..base.clone()
        },
        SceneSpec {
            crop: Some(Crop {
                x: 0,
                y: 0,
                width: 0,
                height: 0,
            }),
            ..base.clone()
        },
        SceneSpec {
            focal: 0.0,
            ..base.clone()
        },
    ];
    for scene in bad {
        let e = r.render(&face, time, &scene).unwrap_err();
        assert!(matches!(e, RenderError::InvalidScene { .. }), "{e}");
        assert_style(&e);
    }
}

#[test]
fn extreme_but_valid_scenes_render() {
    let mut r = ClockRenderer::new();
    let face = FaceSpec::sample(4);
    let time = ClockTime::sample(4);
    let mut scene = SceneSpec::none(64);
    scene.watch_scale = 3.0;
    scene.center = (-0.5, 1.5);
    scene.tilt_x_deg = 70.0;
    scene.tilt_y_deg = -70.0;
    scene.rotation_deg = 1e6;
    let img = r.render(&face, time, &scene).unwrap();
    assert_eq!((img.width, img.height), (64, 64));
    scene.crop = Some(Crop {
        x: 10,
        y: 20,
        width: 30,
        height: 40,
    });
    let img = r.render(&face, time, &scene).unwrap();
    assert_eq!((img.width, img.height), (30, 40));
    assert_eq!(img.rgba.len(), 30 * 40 * 4);
    let tiny = r
        .render_face(&face, time, pixmo_gen_clock::MIN_SIZE)
        .unwrap();
    assert_eq!(tiny.rgba.len(), 16 * 16 * 4);
}

#[test]
fn renderers_can_move_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<ClockRenderer>();
    let handle = std::thread::spawn(|| {
        let mut r = ClockRenderer::new();
        r.render_face(&FaceSpec::sample(5), ClockTime::sample(5), 32)
            .map(|img| img.rgba.len())
            .unwrap()
    });
    assert_eq!(handle.join().unwrap(), 32 * 32 * 4);
}
